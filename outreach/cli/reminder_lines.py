"""What `campaign preview` and `campaign status` say of a campaign's reminders (issue 17)."""

from __future__ import annotations

from flows.campaign import Campaign
from flows.timing import format_duration
from outreach.campaigns.reminders import ReminderProgress


def preview_line(flow: Campaign) -> str | None:
    """Which reminders go to whom; None when the campaign schedules none."""
    if not flow.schedule.reminders:
        return None
    after = ", ".join(format_duration(delay) for delay in flow.schedule.reminders)
    return f"Reminders after {after} to those who have not answered: {flow.reminders.describe()}"


def status_line(flow: Campaign, progress: ReminderProgress) -> str:
    line = f"reminders: {flow.reminders.describe()}; {progress.sent:,} sent"
    if progress.left is not None:
        line += f", {progress.left:,} left"
    if flow.reminders.strategy == "lagging_strata":
        lagging = progress.strata - progress.past_target
        line += (
            f"; {lagging} of {progress.strata} strata lag the campaign's response rate ({progress.rate:.1%}) and"
            f" get them, {progress.past_target} past their target get none"
        )
    return line
