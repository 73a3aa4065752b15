"""`outreach export CAMPAIGN --format flow-results`: the campaign's Flow Results package, as a zip
(to standard output, or to a file whose name ends in .zip) or as a directory of its two files
(any other --output), written as the answers are read."""

from __future__ import annotations

import sys
from pathlib import Path

from outreach import audit
from outreach.audit import Actor
from outreach.bootstrap import Services
from outreach.campaigns.commands import find_campaign
from outreach.cli.runner import fail
from outreach.results.flow_results import flow_results_files
from outreach.results.streamed_zip import zip_chunks


async def write_flow_results(services: Services, campaign: str, output: Path | None) -> None:
    record = await find_campaign(services.sessions, campaign)
    details: dict[str, audit.DetailValue] = {"format": "flow-results"}
    await audit.record_apart(
        services.sessions, Actor.cli(), audit.EXPORT, "campaign", record.id, details, at=services.clock()
    )
    files = flow_results_files(
        services.sessions,
        record,
        services.definitions.flow(record),
        services.settings.export_attributes,
        time_precision=services.settings.row_time_precision,
    )
    if output is None or output.suffix.lower() == ".zip":
        sink = output.open("wb") if output else sys.stdout.buffer
        try:
            async for chunk in zip_chunks(files, written_at=services.clock()):
                sink.write(chunk)
        finally:
            if output:
                sink.close()
            else:
                sink.flush()
        return
    _new_directory(output)
    for name, texts in files:
        with (output / name).open("w", encoding="utf-8", newline="") as sink_file:
            async for text in texts:
                sink_file.write(text)


def _new_directory(path: Path) -> None:
    """`path` as an empty directory (made if need be): a package never mixes with other files."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise fail(f"{path} exists and is not an empty directory: a package is written to a new one (or a .zip)")
    path.mkdir(parents=True, exist_ok=True)
