"""The residents endpoint of /api/v1 (a batch of residents added or updated, bad rows reported by
index) and its declaration, with the example batch the document shows."""

from __future__ import annotations

from outreach.campaigns.residents_import import RowError, parse_row
from outreach.web.api.models import RejectedResident, ResidentsBatch, ResidentsImported
from outreach.web.api.registry import ApiRoute, Call
from outreach.web.api.storable import row_problem, storable_moment
from storage.residents import AddressConflict, ResidentRepository


async def import_residents_endpoint(call: Call) -> ResidentsImported:
    batch = call.body_as(ResidentsBatch)
    services = call.services
    region = (batch.region or services.settings.default_region).upper()
    report = ResidentsImported(created=0, updated=0, rejected=[])
    async with services.sessions() as session, session.begin():
        residents = ResidentRepository(session)
        for index, given in enumerate(batch.residents):
            problem = row_problem(given)
            fields: dict[str | None, str | None] = {key: value for key, value in given.items()}
            row = RowError(index, problem) if problem else parse_row(index, fields, region=region)
            if isinstance(row, RowError):
                report.rejected.append(RejectedResident(index=index, message=row.message))
                continue
            if any(address.consent_at and not storable_moment(address.consent_at) for address in row.addresses):
                report.rejected.append(RejectedResident(index=index, message="consent_at is out of range"))
                continue
            try:
                async with session.begin_nested():
                    _, created = await residents.upsert(
                        addresses=row.addresses, language=row.language, attributes=row.attributes, now=services.clock()
                    )
            except AddressConflict as conflict:
                report.rejected.append(RejectedResident(index=index, message=str(conflict)))
                continue
            if created:
                report.created += 1
            else:
                report.updated += 1
    return report


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
        "Add or update residents",
        "residents",
        scope="residents:write",
        body=ResidentsBatch,
        body_example=RESIDENTS_EXAMPLE,
        response=ResidentsImported,
        unbound_only=True,
        description="Up to 1000 residents in the residents-CSV fields; good ones go in, bad ones are"
        " reported by index (naming the field, never its value). Nothing about residents is read back.",
    ),
]
