"""Campaign flows as data: the campaign file model and loader (located errors), answer matching, and the
pure engine (`start`/`resume`): no I/O, no clock reads, no database."""
