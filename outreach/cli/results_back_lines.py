"""What `campaign preview` and `campaign close` say about a campaign's results back to its respondents."""

from __future__ import annotations

from flows.campaign import Campaign
from flows.preview import RESULTS_BACK_LABEL
from outreach.bootstrap import Services
from outreach.cli.runner import console
from outreach.results.results_back import preview_results_back
from storage.tables import CampaignRecord


async def print_results_back_preview(services: Services, record: CampaignRecord | None, flow: Campaign) -> None:
    """Who would get the results back if the campaign closed now (a created campaign), and the SMS cost."""
    if flow.results_back is None:
        return
    if record is None:
        console.print(
            f"Results back after close: to each respondent who did not say STOP, on the channel they answered on"
            f" ('{RESULTS_BACK_LABEL}' above, at its longest)",
            markup=False,
        )
        return
    preview = await preview_results_back(services.sessions, record, flow, services.settings.sms_prices)
    channels = ", ".join(f"{channel} {count}" for channel, count in sorted(preview.respondents.items()))
    currency = services.settings.sms_price_currency
    console.print(
        f"Results back after close: {preview.respondents.total()} respondents so far ({channels or 'none'});"
        f" SMS at most {preview.sms_segments} segments ≈ {preview.sms_cost:.2f} {currency} (spent from its budget)",
        markup=False,
    )


async def send_results_back_now(services: Services) -> None:
    """After `campaign close`: queue the results at once rather than at the next lifecycle tick."""
    queued = await services.lifecycle.send_results_back()
    if queued:
        console.print(f"results back: {queued} messages queued (sent outside quiet hours)", markup=False)
