from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from performance.models import FeedBatch, FeedSource
from performance.services.ingest import batch_report, ingest_feed_file

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Ingest a KPI feed file (CSV, JSON Lines or .xlsx) for a feed source and print the report."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="feed source slug")
        parser.add_argument(
            "--format",
            choices=FeedSource.Format.values,
            help="default: xlsx for a .xlsx file, else the source's",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, file: Path, source: str, format: str | None, **options):
        try:
            feed_source = FeedSource.objects.get(slug=source)
        except FeedSource.DoesNotExist:
            known = ", ".join(FeedSource.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"no feed source {source!r} (known: {known})") from None
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        batch = ingest_feed_file(path=file, source=feed_source, format=format)
        report = batch_report(batch)
        if options["json"]:
            self.stdout.write(_json_dumps(report))
        else:
            self._print_report(batch, report)
        if batch.status == FeedBatch.Status.FAILED:
            raise CommandError(f"batch {batch.id} failed: {batch.error_text}", returncode=2)

    def _print_report(self, batch: FeedBatch, report: dict) -> None:
        write = self.stdout.write
        write(f"Batch {batch.id} from {batch.source.slug}: {batch.get_status_display()}")
        if batch.error:
            write(f"  error: {batch.error_text}")
        read_as = batch.get_format_display()
        if batch.encoding:
            read_as = f"{read_as}, {batch.encoding_name}"
        write(f"  read as {read_as}")
        write(
            f"  rows {report['rows']}: created {report['created']}, updated {report['updated']}, "
            f"unchanged {report['unchanged']}, rejected {report['rejected']}"
        )
        if batch.duration_seconds:
            write(f"  took {batch.duration_seconds:.2f}s; sha256 {batch.checksum_sha256}")
        for error in report["errors"][:SHOWN_ERRORS]:
            field = f" {error['field']}:" if error["field"] else ""
            write(f"  line {error['line']}:{field} {error['reason']}")
        if len(report["errors"]) > SHOWN_ERRORS:
            write(f"  ... {len(report['errors']) - SHOWN_ERRORS} more (use --json for all)")


def _json_dumps(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False)
