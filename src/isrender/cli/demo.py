"""``isrender demo``: the ExportJob seed example, end to end, in a throwaway catalog.

It builds a catalog in a fresh directory from sample images it generates (a landscape photo
stand-in and a transparent logo), loads the example macro file (``test`` = ``fmt=tif``),
adds a set-type asset, and runs the reference's example: ``fmt=convert`` with
``is_modifier=&fmt=png`` and ``macro=$test$``. The set is refused; the rest is exported.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from isrender.catalog import Catalog, Role
from isrender.cli.support import out
from isrender.config import Settings
from isrender.jobs import JobService

__all__ = ["register"]

EXAMPLE_MACROS = Path(__file__).resolve().parents[3] / "examples" / "macros.toml"


def _sample_images(folder: Path) -> list[Path]:
    from isrender.render.vips.samples import write_samples  # libvips only when the demo runs

    return write_samples(folder)


@click.command("demo")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to build the throwaway catalog (default: a new temporary directory).",
)
def demo_cmd(data_dir: Path | None) -> None:
    """Run the ExportJob seed example end to end and show what happened."""
    from isrender.cli.jobs import print_job_log

    root = data_dir or Path(tempfile.mkdtemp(prefix="isrender-demo-"))
    macro_files = (EXAMPLE_MACROS,) if EXAMPLE_MACROS.is_file() else ()
    catalog = Catalog(Settings(data_dir=root / "data", macro_files=macro_files))
    out.rule("1. a catalog: company Acme, user editor@acme.example (IpsUser)")
    acme = catalog.add_company("Acme").id
    editor = catalog.add_user("editor@acme.example", "secret", Role.IPS_USER, ((acme, None),))
    incoming = root / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    out.rule("2. upload two generated sample images to products/, and add an image set")
    for entry in catalog.upload(acme, _sample_images(incoming), "products"):
        out.print(f"  {entry.source}: {entry.status} as a|{entry.asset_id} ({entry.asset_type})")
    image_set = catalog.add_asset(acme, "shoeSet", "ImageSet", "sets")
    out.print(f"  shoeSet: ImageSet a|{image_set.id} (set-type: ExportJob refuses it)")
    out.rule("3. macros from examples/macros.toml (server-wide)")
    out.print(f"  $test$ = {catalog.macro_registry(acme).get('test').definition}")  # type: ignore[union-attr]
    out.rule("4. ExportJob: fmt=convert, is_modifier=&fmt=png, macro=$test$")
    service = JobService(catalog)
    handles = [f"a|{a.id}" for a in catalog.assets(acme)]
    job = service.submit(editor, "Acme", "seed-example", {
        "assetHandleArray": handles, "fmt": "convert", "is_modifier": "&fmt=png",
        "macro": "$test$", "emailSetting": "JobCompletion"})  # fmt: skip
    job = service.run(job.id)
    print_job_log(service, job)
    out.rule("5. what was written (the macro's fmt=tif wins over &fmt=png)")
    folder = service.output_dir(job)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        out.print(f"  {path.relative_to(folder)}  ({path.stat().st_size:,} bytes)", markup=False)
    out.print(f"  package: {folder.with_suffix('.zip')}", markup=False)
    mail = service.transport.outbox[-1]  # type: ignore[union-attr]
    out.rule("6. the e-mail digest (log transport: nothing is really sent)")
    out.print(f"  To: {mail.recipient}\n  Subject: {mail.subject}", markup=False)
    out.print("  " + mail.body.replace("\n", "\n  "), markup=False)


def register(main: click.Group) -> None:
    main.add_command(demo_cmd)
