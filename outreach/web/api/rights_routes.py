"""The residents' rights endpoints of /api/v1 (admin only): find, export and erase one resident by
an address given in the JSON body; and each campaign's erasures feed, the tombstones consumers of the
answer feed follow. Their declarations are here; the work is outreach.rights.requests'."""

from __future__ import annotations

from outreach.rights.requests import NotOneResident, ResidentRequests
from outreach.web.api.cursors import encode_position, feed_start
from outreach.web.api.errors import ApiError
from outreach.web.api.registry import ApiRoute, Call
from outreach.web.api.rights_models import (
    AddressRequest,
    ErasureDone,
    ErasureNoticeInfo,
    ErasurePage,
    ErasuresQuery,
    FoundResidentInfo,
    FoundResidents,
    ResidentExport,
)
from storage.db import read_session
from storage.erasure_notices import notices_page


def _requests(call: Call) -> ResidentRequests:
    services = call.services
    return ResidentRequests(services.sessions, services.settings, clock=services.clock, spool=services.spool)


async def find_resident(call: Call) -> FoundResidents:
    found = await _requests(call).find(call.body_as(AddressRequest).address, actor=call.actor)
    return FoundResidents(residents=[FoundResidentInfo(**vars(resident)) for resident in found])


async def export_resident(call: Call) -> ResidentExport:
    return ResidentExport(
        residents=await _requests(call).export(call.body_as(AddressRequest).address, actor=call.actor)
    )


async def erase_resident(call: Call) -> ErasureDone:
    try:
        erasure = await _requests(call).erase(call.body_as(AddressRequest).address, actor=call.actor)
    except NotOneResident as error:
        raise ApiError(404 if error.found == 0 else 409, "not_one_resident", str(error)) from None
    done = erasure.erased
    return ErasureDone(
        resident=erasure.resident,
        addresses=done.addresses,
        campaigns=done.campaigns,
        answers=done.answers,
        messages_received=done.messages_received,
        messages_sent=done.messages_sent,
        suppressed=done.suppressed,
    )


async def list_erasures(call: Call) -> ErasurePage:
    query = call.query_as(ErasuresQuery)
    record = call.record
    assert record.id is not None
    after = feed_start(query.cursor, query.since, record.id)
    async with read_session(call.services.sessions) as session:
        notices = await notices_page(session, record.id, after=after, limit=query.limit)
    page = notices[: query.limit]
    end = encode_position(record.id, page[-1].position if page else after)
    return ErasurePage(
        data=[ErasureNoticeInfo(respondent=notice.respondent, erased_on=notice.erased_on) for notice in page],
        next_cursor=end if len(notices) > query.limit else None,
        watermark=end,
    )


ADDRESS_EXAMPLE = {"address": "+48600100200"}
_IN_BODY = (
    " The address is in the body, never in the URL, so no access log holds it; it is never logged, and an"
    " Idempotency-Key is ignored here (neither the request nor its answer is kept)."
)

RIGHTS_ROUTES: list[ApiRoute] = [
    ApiRoute(
        "POST",
        "/residents/find",
        find_resident,
        "findResident",
        "Find a resident by an address (access and erasure requests)",
        "residents",
        scope="admin",
        body=AddressRequest,
        body_example=ADDRESS_EXAMPLE,
        response=FoundResidents,
        unbound_only=True,
        idempotent=False,
        description="Who has this address, by pseudonym: their kinds of address, campaigns and answers." + _IN_BODY,
    ),
    ApiRoute(
        "POST",
        "/residents/export",
        export_resident,
        "exportResident",
        "Everything held about a resident (an access request)",
        "residents",
        scope="admin",
        body=AddressRequest,
        body_example=ADDRESS_EXAMPLE,
        response=ResidentExport,
        unbound_only=True,
        idempotent=False,
        description="Addresses and their consent, attributes, campaigns asked, answers, messages sent and"
        " received, for the resident to have." + _IN_BODY,
    ),
    ApiRoute(
        "POST",
        "/residents/erase",
        erase_resident,
        "eraseResident",
        "Erase a resident",
        "residents",
        scope="admin",
        body=AddressRequest,
        body_example=ADDRESS_EXAMPLE,
        response=ErasureDone,
        unbound_only=True,
        idempotent=False,
        conflict="the address, in the form given, names several residents",
        extra_errors={404: "No resident has the address."},
        description="Addresses, attributes and messages go, in one transaction; answers stay, anonymised"
        " (a fresh respondent id per campaign), so results do not change. Each campaign's erasures feed"
        " gets a notice with the old respondent id. An opted-out address stays suppressed as a keyed hash." + _IN_BODY,
    ),
    ApiRoute(
        "GET",
        "/campaigns/{campaign_id}/erasures",
        list_erasures,
        "listErasures",
        "Erasure notices of a campaign (tombstones for copies of the answer feed)",
        "answers",
        scope="responses:rows",
        query=ErasuresQuery,
        response=ErasurePage,
        description="Respondent ids an erasure took away from this campaign's answers, in commit order, paged"
        " as the answer feed is (`cursor`, then keep `watermark` and pass it as `since`). The answers stay,"
        " under a fresh id the feed does not send again: drop the old id from your copy, or its rows.",
    ),
]
