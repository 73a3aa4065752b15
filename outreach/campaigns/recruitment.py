"""Where a resident came from, kept as two attributes that results can split on.

`recruited_via` tells residents an official imported (a register, a list) from those who enrolled
themselves; `recruitment_source` names the import (its label, by default the file's name) or the
enrolment source code (`/start SOURCE` from a poster's QR code). Both are set once, when the resident
is first recorded, and never by a file's columns, nor changed by a later import.
"""

from __future__ import annotations

RECRUITED_VIA = "recruited_via"
RECRUITMENT_SOURCE = "recruitment_source"
VIA_IMPORT = "import"
VIA_SELF_ENROLMENT = "self-enrolment"
# The step of a resident still joining by themselves (the inbound pipeline's enrolment conversation),
# and how often their chat has begun it (outreach.inbound.enrolment.MAX_STARTS); both go when it ends.
ENROLMENT_ATTRIBUTE = "enrolment"
ENROLMENT_STARTS = "enrolment_starts"
# Attributes the service sets itself: a file or an API call naming them is refused.
SERVICE_ATTRIBUTES = frozenset({RECRUITED_VIA, RECRUITMENT_SOURCE, ENROLMENT_ATTRIBUTE, ENROLMENT_STARTS})
SOURCE_LENGTH = 120  # a label is kept whole; longer is refused


def recruitment(via: str, source: str) -> dict[str, str]:
    return {RECRUITED_VIA: via, RECRUITMENT_SOURCE: source}
