"""An official's campaigns: commands, conversations as rows, the lifecycle and its scheduler, quiet
hours, pseudonyms, launch checks, preview and SMS pricing, and the residents import."""
