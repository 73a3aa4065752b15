"""The residents endpoint of /api/v1 (a batch of residents added, bad rows reported by index; whether
a resident was already known is never said) and its declaration, with the example batch the document
shows."""

from __future__ import annotations

from outreach import audit
from outreach.campaigns.resident_rows import parse_row
from outreach.campaigns.residents_import import store_rows
from outreach.web.api.auth import effective_scopes
from outreach.web.api.errors import ApiError
from outreach.web.api.models import RejectedResident, ResidentsBatch, ResidentsImported, ResidentsOptions
from outreach.web.api.registry import ApiRoute, Call
from storage.consent_ledger import Source
from storage.residents import OnMatch


def is_admin(call: Call) -> bool:
    return call.token is not None and "admin" in effective_scopes(call.token.scopes)


def allowed_on_match(call: Call, options: ResidentsOptions) -> OnMatch:
    """What a row does to a known resident, as asked, when the token may ask it (403 otherwise)."""
    on_match = OnMatch(options.on_match)
    # Changing a known resident is the official's choice: residents:write alone can only add.
    if on_match is not OnMatch.SKIP and not is_admin(call):
        raise ApiError(403, "insufficient_scope", f"on_match {on_match.value} needs an admin token")
    return on_match


async def import_residents_endpoint(call: Call) -> ResidentsImported:
    batch = call.body_as(ResidentsBatch)
    on_match = allowed_on_match(call, batch)
    services = call.services
    region = (batch.region or services.settings.default_region).upper()
    rows = [
        parse_row(index, dict(given.items()), region=region, age_bands=services.settings.age_bands)
        for index, given in enumerate(batch.residents)
    ]
    report = await store_rows(
        services.sessions,
        rows,
        clock=services.clock,
        label=batch.label,
        on_match=on_match,
        pseudonym_secret=services.settings.pseudonym_key(),
        source=Source.API,
    )
    details: dict[str, audit.DetailValue] = {
        "rows": len(rows),
        "accepted": report.accepted,
        "rejected": len(report.errors),
        "on_match": on_match.value,
    }
    await audit.record_apart(
        services.sessions, call.actor, audit.RESIDENTS_IMPORT, "residents", None, details, at=services.clock()
    )
    rejected = [RejectedResident(index=error.line, message=error.message) for error in report.errors]
    return ResidentsImported(accepted=report.accepted, rejected=rejected)


RESIDENTS_EXAMPLE = {
    "residents": [
        {
            "phone": "+48600100200",
            "language": "pl",
            "district": "Orunia-Św. Wojciech-Lipce",
            "age_band": "30-44",
            "consent_source": "city register",
            "consent_at": "2026-03-01T12:00:00+01:00",
        }
    ]
}

RESIDENT_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "POST",
        "/residents",
        import_residents_endpoint,
        "importResidents",
        "Add residents",
        "residents",
        scope="residents:write",
        body=ResidentsBatch,
        body_example=RESIDENTS_EXAMPLE,
        response=ResidentsImported,
        unbound_only=True,
        description="Up to 1000 residents in the residents-CSV fields; good ones go in, bad ones are"
        " reported by index (naming the field, never its value). Nothing about residents is read back, not"
        " even whether one was known: a row with an address a resident already has leaves that resident as"
        " they were unless an admin token chooses `on_match`.",
    ),
]
