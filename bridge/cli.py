"""The `bridge` command line: serve, worker, db, tenants, jobs, webhooks, links, reminders, keys, simulate, demo.

Errors end the command with one line on stderr and a non-zero exit; no tracebacks. Secrets are read
from a file, the environment or a hidden prompt, never from the command line itself.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click
from pydantic import ValidationError

from bridge.errors import BridgeError, ConfigError

log = logging.getLogger("bridge.cli")

SECRET_FIELDS = ("kb_api_secret", "kb_password", "hs_api_key", "hs_webhook_secret", "plugin_shared_secret",
                 "messaging_auth_token")
REQUIRED_SECRETS = ("kb_api_secret", "kb_password", "hs_api_key", "hs_webhook_secret")
SECRET_ENV_PREFIX = "BRIDGE_TENANT_"


class BridgeGroup(click.Group):
    """Turns the bridge's own errors into one clear line and exit status 1 (2 for configuration)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except BridgeError as exc:
            click.echo(f"error: {exc.detail}", err=True)
            ctx.exit(1)
        except ValidationError as exc:
            from bridge.web.requests import describe_validation_error

            click.echo(f"error: {describe_validation_error(exc)}", err=True)
            ctx.exit(1)


def _runtime(ctx: click.Context):  # type: ignore[no-untyped-def]
    """Settings, logging and storage, built on first use (so --help needs none of them)."""
    obj = ctx.ensure_object(dict)
    if "runtime" not in obj:
        from bridge.logs import configure_logging
        from bridge.runtime import Runtime
        from bridge.settings import load_settings

        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        obj["runtime"] = Runtime.from_settings(settings)
    return obj["runtime"]


@contextmanager
def _session(ctx: click.Context) -> Iterator[Any]:
    from bridge.db.engine import session_scope

    runtime = _runtime(ctx)
    runtime.migrate_if_configured()
    with session_scope(runtime.sessions) as session:
        yield session


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        click.echo("  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * w for w in widths))


def _pairs(pairs: Iterable[tuple[str, Any]]) -> None:
    pairs = list(pairs)
    width = max(len(key) for key, _ in pairs)
    for key, value in pairs:
        click.echo(f"{key.ljust(width)}  {'' if value is None else value}")


@click.group(cls=BridgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="killbill-hyperswitch-bridge", prog_name="bridge")
def cli() -> None:
    """Kill Bill ⇄ Hyperswitch bridge."""


# -- serve / worker -----------------------------------------------------------------------------
@cli.command()
@click.option("--host", default=None, help="listen address (default BRIDGE_HOST)")
@click.option("--port", type=int, default=None, help="listen port (default BRIDGE_PORT)")
@click.option("--workers", type=int, default=None, help="gunicorn workers (default 2 × CPUs + 1)")
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None, dev: bool) -> None:
    """Serve the plugin contract, webhooks, payor pages, admin API and health endpoints."""
    runtime = _runtime(ctx)
    runtime.migrate_if_configured()
    settings = runtime.settings
    host, port = host or settings.host, port or settings.port
    click.echo(f"bridge listening on http://{host}:{port} (database: {runtime.engine.url.render_as_string()})",
               err=True)
    if dev:
        from bridge.app import create_app

        create_app(runtime=runtime).run(host=host, port=port, debug=True, use_reloader=True)
        return
    runtime.engine.dispose()  # each gunicorn worker opens its own connections
    from bridge.server import run

    run(settings, host, port, workers)


@cli.command()
@click.option("--once", is_flag=True, help="run the jobs that are due, one at a time, then exit")
@click.pass_context
def worker(ctx: click.Context, once: bool) -> None:
    """Run durable jobs (webhook processing, emails, reminders, sweeps): BRIDGE_WORKER_CONCURRENCY at once."""
    from bridge.jobs.catalog import build_worker_threads

    runtime = _runtime(ctx)
    runtime.migrate_if_configured()
    job_worker = build_worker_threads(runtime)
    if once:
        click.echo(f"ran {job_worker.run_until_idle()} job(s)")
        return
    job_worker.install_signal_handlers()
    job_worker.run()


# -- db -------------------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations."""
    from bridge.db import migrate

    runtime = _runtime(ctx)
    migrate.upgrade(runtime.engine, revision)
    click.echo(f"database at revision {migrate.current_revision(runtime.engine)}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Show the applied and the newest revision."""
    from bridge.db import migrate

    runtime = _runtime(ctx)
    current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
    click.echo(f"current: {current or '(empty database)'}\nhead:    {head}")
    if current != head:
        ctx.exit(1)


# -- tenants -------------------------------------------------------------------------------------
@cli.group()
def tenants() -> None:
    """Map Kill Bill tenants to Hyperswitch merchants and profiles."""


def _interactive() -> bool:
    return sys.stdin.isatty()


def _read_secret(field: str, path: Path | None, *, required: bool) -> str | None:
    """A secret from its file, else BRIDGE_TENANT_<FIELD>, else a hidden prompt on a terminal."""
    if path is not None:
        value = path.read_text().strip()
        if not value:
            raise BridgeError(f"{path} is empty", status=400)
        return value
    env_name = SECRET_ENV_PREFIX + field.upper()
    if os.environ.get(env_name):
        return os.environ[env_name]
    if not required:
        return None
    if _interactive():
        return click.prompt(field.replace("_", " "), hide_input=True)
    raise BridgeError(f"missing secret {field}: give --{field.replace('_', '-')}-file, set {env_name}, "
                      "or run interactively", status=400)


def _secret_file_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for field in reversed(SECRET_FIELDS):
        func = click.option(f"--{field.replace('_', '-')}-file", f"{field}_file",
                            type=click.Path(exists=True, dir_okay=False, path_type=Path),
                            help=f"file holding the {field.replace('_', ' ')}")(func)
    return func


def _settings_patch(email_sender: str | None, email_reply_to: str | None, brand_name: str | None,
                    settings_file: Path | None) -> dict[str, Any]:
    patch: dict[str, Any] = json.loads(settings_file.read_text()) if settings_file else {}
    email = {k: v for k, v in (("sender", email_sender), ("reply_to", email_reply_to),
                               ("brand_name", brand_name)) if v is not None}
    if email:
        patch.setdefault("email", {}).update(email)
    return patch


def _tenant_options(required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--name", required=required, help="a label for operators"),
            click.option("--killbill-url", required=required, help="Kill Bill base URL"),
            click.option("--kb-api-key", required=required, help="the Kill Bill tenant's API key"),
            click.option("--kb-username", required=required, help="Kill Bill user for the bridge's calls"),
            click.option("--hs-base-url", required=required, help="Hyperswitch base URL"),
            click.option("--merchant-id", "hs_merchant_id", required=required, help="Hyperswitch merchant_id"),
            click.option("--profile-id", "hs_profile_id", required=required, help="Hyperswitch profile_id"),
            click.option("--publishable-key", "hs_publishable_key", help="Hyperswitch publishable key"),
            click.option("--messaging-base-url", help="base URL of the SMS/WhatsApp messaging provider "
                                                      "(Twilio-compatible), e.g. https://api.twilio.com"),
            click.option("--messaging-account-sid",
                         help="the messaging provider account's SID (its auth token: --messaging-auth-token-file "
                              "or BRIDGE_TENANT_MESSAGING_AUTH_TOKEN)"),
            click.option("--email-sender", help="From: of payor emails"),
            click.option("--email-reply-to", help="Reply-To: of payor emails"),
            click.option("--brand-name", help="brand shown to payors"),
            click.option("--settings-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="JSON file of tenant settings (email, channels, pay_by_link, reminders)"),
            click.option("--json", "as_json", is_flag=True, help="machine-readable output"),
        ]
        for option in reversed(options):
            func = option(func)
        return _secret_file_options(func)
    return decorate


def _print_tenant(view: Any, as_json: bool, callback: Any = None) -> None:
    data = view.model_dump(mode="json")
    if as_json:
        if callback is not None:
            data["callback"] = callback.model_dump(mode="json")
        _echo_json(data)
        return
    settings = data.pop("settings")
    pairs = list(data.items()) + [("settings", json.dumps(settings, sort_keys=True))]
    if callback is not None:
        pairs.append(("push callback", f"{callback.status}: {callback.detail}"))
    _pairs(pairs)


@tenants.command("add")
@click.option("--tenant-id", required=True, help="the Kill Bill tenant id (UUID)")
@_tenant_options(required=True)
@click.option("--register-callback/--no-register-callback", default=True, show_default=True,
              help="register <BRIDGE_PUBLIC_URL>/webhooks/killbill/<token> as the tenant's Kill Bill push callback "
                   "once the mapping is stored (a failure is reported; the mapping stays)")
@click.pass_context
def tenants_add(ctx: click.Context, tenant_id: str, as_json: bool, email_sender: str | None,
                email_reply_to: str | None, brand_name: str | None, settings_file: Path | None,
                register_callback: bool, **fields: Any) -> None:
    """Map a Kill Bill tenant to a Hyperswitch merchant and profile.

    Then registers the bridge as the tenant's Kill Bill push callback. If that fails, the mapping is kept
    and the warning says how to retry (`bridge tenants verify <id> --register-callback`); the exit status
    is still 0.
    """
    from bridge.tenancy import service
    from bridge.tenancy.schemas import TenantCreate
    from bridge.tenancy.verify import callback_target, public_url, register_on_add

    secrets = {f: _read_secret(f, fields.pop(f"{f}_file"), required=f in REQUIRED_SECRETS) for f in SECRET_FIELDS}
    data = TenantCreate.model_validate(
        {"kb_tenant_id": tenant_id, **{k: v for k, v in fields.items() if v is not None},
         **{k: v for k, v in secrets.items() if v is not None},
         "settings": _settings_patch(email_sender, email_reply_to, brand_name, settings_file)})
    runtime = _runtime(ctx)
    with _session(ctx) as session:
        tenant = service.create_tenant(session, data, runtime.keyring)
        view = service.view(tenant, runtime.keyring)
        creds = service.credentials(tenant, runtime.keyring)
        target = callback_target(tenant, runtime.keyring, public_url(runtime.settings), registering=True) \
            if register_callback else None
    # The mapping is committed: whatever happens with Kill Bill now, it stays.
    outcome = register_on_add(creds, target, requested=register_callback)
    _print_tenant(view, as_json, callback=outcome)
    if outcome.status == "failed" or (outcome.status == "skipped" and register_callback):
        click.echo(f"warning: Kill Bill push callback: {outcome.detail}", err=True)


@tenants.command("update")
@click.argument("tenant_id")
@_tenant_options(required=False)
@click.option("--set-secret", "set_secrets", multiple=True, type=click.Choice(SECRET_FIELDS),
              help="replace this secret, read from BRIDGE_TENANT_<NAME> or a hidden prompt")
@click.pass_context
def tenants_update(ctx: click.Context, tenant_id: str, as_json: bool, email_sender: str | None,
                   email_reply_to: str | None, brand_name: str | None, settings_file: Path | None,
                   set_secrets: tuple[str, ...], **fields: Any) -> None:
    """Change a tenant's mapping, secrets or settings."""
    from bridge.tenancy import service
    from bridge.tenancy.schemas import TenantUpdate

    secrets = {}
    for field in SECRET_FIELDS:
        path = fields.pop(f"{field}_file")
        if path is not None or field in set_secrets:
            secrets[field] = _read_secret(field, path, required=True)
    patch = _settings_patch(email_sender, email_reply_to, brand_name, settings_file)
    update = TenantUpdate.model_validate({**{k: v for k, v in fields.items() if v is not None}, **secrets,
                                          **({"settings": patch} if patch else {})})
    runtime = _runtime(ctx)
    with _session(ctx) as session:
        view = service.view(service.update_tenant(session, tenant_id, update, runtime.keyring), runtime.keyring)
    _print_tenant(view, as_json)


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def tenants_list(ctx: click.Context, as_json: bool) -> None:
    """List mapped tenants (secrets masked)."""
    from bridge.tenancy import service

    runtime = _runtime(ctx)
    with _session(ctx) as session:
        views = [service.view(t, runtime.keyring) for t in service.list_tenants(session)]
    if as_json:
        _echo_json([v.model_dump(mode="json") for v in views])
        return
    _table([(v.kb_tenant_id, v.name, v.hs_merchant_id, v.hs_profile_id, v.killbill_url, v.hs_base_url)
            for v in views], ("TENANT", "NAME", "MERCHANT", "PROFILE", "KILL BILL", "HYPERSWITCH"))


@tenants.command("show")
@click.argument("tenant_id")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def tenants_show(ctx: click.Context, tenant_id: str, as_json: bool) -> None:
    """Show one tenant (secrets masked)."""
    from bridge.tenancy import service

    runtime = _runtime(ctx)
    with _session(ctx) as session:
        view = service.view(service.get_tenant(session, tenant_id), runtime.keyring)
    _print_tenant(view, as_json)


@tenants.command("remove")
@click.argument("tenant_id")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.pass_context
def tenants_remove(ctx: click.Context, tenant_id: str, yes: bool) -> None:
    """Remove a tenant's mapping."""
    from bridge.tenancy import service

    if not yes and not click.confirm(f"remove tenant {tenant_id}?", default=False):
        ctx.exit(1)
    with _session(ctx) as session:
        service.remove_tenant(session, tenant_id)
    click.echo(f"removed tenant {tenant_id}")


@tenants.command("verify")
@click.argument("tenant_id")
@click.option("--register-callback", is_flag=True,
              help="(re)register <BRIDGE_PUBLIC_URL>/webhooks/killbill/<token> as the tenant's Kill Bill push "
                   "callback (replacing the one Kill Bill has), then report it")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def tenants_verify(ctx: click.Context, tenant_id: str, register_callback: bool, as_json: bool) -> None:
    """Check the tenant's Hyperswitch and Kill Bill credentials against the live services.

    With BRIDGE_PUBLIC_URL set, also checks (read-only) that Kill Bill's push callback for the tenant is the
    bridge's; --register-callback registers it first.
    """
    from bridge.tenancy import service
    from bridge.tenancy.verify import callback_target, public_url, verify_tenant

    runtime = _runtime(ctx)
    with _session(ctx) as session:
        tenant = service.get_tenant(session, tenant_id)
        target = callback_target(tenant, runtime.keyring, public_url(runtime.settings), registering=register_callback)
        creds = service.credentials(tenant, runtime.keyring)
    report = verify_tenant(creds, target, register=register_callback)
    if as_json:
        _echo_json(report.model_dump(mode="json"))
    else:
        for check in report.checks:
            click.echo(f"{check.status.upper():4}  {check.name}: {check.detail}")
    if not report.ok:
        ctx.exit(1)


# -- jobs -----------------------------------------------------------------------------------------
@cli.group()
def jobs() -> None:
    """Inspect and replay durable jobs."""


@jobs.command("list")
@click.option("--state", type=click.Choice(["pending", "running", "done", "dead"]))
@click.option("--kind")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def jobs_list(ctx: click.Context, state: str | None, kind: str | None, limit: int, as_json: bool) -> None:
    """List the newest jobs."""
    from bridge.jobs import admin

    with _session(ctx) as session:
        views = admin.list_jobs(session, state=state, kind=kind, limit=limit)
    if as_json:
        _echo_json([v.model_dump(mode="json") for v in views])
        return
    _table([(v.id, v.kind, v.state, f"{v.attempts}/{v.max_attempts}", v.run_at.isoformat(timespec="seconds"),
             v.kb_tenant_id, (v.last_error or "")[:60]) for v in views],
           ("ID", "KIND", "STATE", "ATTEMPTS", "RUN AT", "TENANT", "LAST ERROR"))


@jobs.command("show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def jobs_show(ctx: click.Context, job_id: int, as_json: bool) -> None:
    """Show one job with its payload and last error."""
    from bridge.jobs import admin

    with _session(ctx) as session:
        detail = admin.show_job(session, job_id)
    if as_json:
        _echo_json(detail.model_dump(mode="json"))
        return
    data = detail.model_dump(mode="json")
    trace = data.pop("last_traceback")
    data["payload"] = json.dumps(data["payload"], sort_keys=True)
    _pairs(data.items())
    if trace:
        click.echo("\n" + trace)


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.pass_context
def jobs_retry(ctx: click.Context, job_id: int) -> None:
    """Run a dead job again, with a fresh set of attempts."""
    from bridge.jobs import admin

    with _session(ctx) as session:
        detail = admin.retry_job(session, job_id)
    click.echo(f"job {detail.id} ({detail.kind}) queued again")


# -- webhooks -------------------------------------------------------------------------------------
@cli.group()
def webhooks() -> None:
    """Inspect and replay inbound events (Hyperswitch webhooks, Kill Bill push notifications)."""


@webhooks.command("list")
@click.option("--source", type=click.Choice(["hyperswitch", "killbill"]))
@click.option("--state", type=click.Choice(["received", "processed", "skipped", "failed"]))
@click.option("--tenant", "kb_tenant_id", help="only this Kill Bill tenant's events")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def webhooks_list(ctx: click.Context, source: str | None, state: str | None, kb_tenant_id: str | None, limit: int,
                  as_json: bool) -> None:
    """List the newest inbound events."""
    from bridge.webhooks import admin

    with _session(ctx) as session:
        views = admin.list_events(session, source=source, state=state, kb_tenant_id=kb_tenant_id, limit=limit)
    if as_json:
        _echo_json([v.model_dump(mode="json") for v in views])
        return
    _table([(v.id, v.source.value, v.event_type, v.state.value, v.attempts,
             v.received_at.isoformat(timespec="seconds"), v.kb_tenant_id, v.object_id, (v.outcome or "")[:60])
            for v in views],
           ("ID", "SOURCE", "TYPE", "STATE", "ATTEMPTS", "RECEIVED", "TENANT", "OBJECT", "OUTCOME"))


@webhooks.command("show")
@click.argument("event_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def webhooks_show(ctx: click.Context, event_id: int, as_json: bool) -> None:
    """Show one event: its body (pretty-printed), outcome, attempts and job."""
    from bridge.webhooks import admin

    with _session(ctx) as session:
        detail = admin.show_event(session, event_id)
    if as_json:
        _echo_json(detail.model_dump(mode="json"))
        return
    data = detail.model_dump(mode="json", exclude={"body", "payload", "job"})
    job = detail.job
    data["job"] = (f"{job.id} {job.state}, attempt {job.attempts}/{job.max_attempts}, "
                   f"run at {job.run_at.isoformat(timespec='seconds')}"
                   + (f", last error: {job.last_error}" if job.last_error else "")) if job else None
    _pairs(data.items())
    click.echo("\nbody:")
    click.echo(json.dumps(detail.payload, indent=2, ensure_ascii=False) if detail.payload is not None
               else detail.body)


@webhooks.command("replay")
@click.argument("event_id", type=int, required=False)
@click.option("--failed", "all_failed", is_flag=True, help="replay every failed event (failed, or its job dead)")
@click.option("--source", type=click.Choice(["hyperswitch", "killbill"]), help="with --failed: only this source")
@click.pass_context
def webhooks_replay(ctx: click.Context, event_id: int | None, all_failed: bool, source: str | None) -> None:
    """Process an event again (or, with --failed, every failed one); the worker runs it."""
    from bridge.webhooks import admin

    if (event_id is None) == (not all_failed):
        raise click.UsageError("give an event id, or --failed (not both)")
    if source is not None and not all_failed:
        raise click.UsageError("--source goes with --failed")
    runtime = _runtime(ctx)
    with _session(ctx) as session:
        if all_failed:
            result = admin.replay_failed(session, runtime.clock(), source=source)
        else:
            view = admin.replay_event(session, event_id, runtime.clock())  # type: ignore[arg-type]
    if all_failed:
        click.echo(f"replayed {result.replayed} failed event(s)"
                   + (f": {', '.join(str(i) for i in result.ids)}" if result.ids else ""))
        return
    click.echo(f"event {view.id} ({view.source.value} {view.event_type}) queued again as job {view.job_id}")


# -- payors' accounts -----------------------------------------------------------------------------
def _tenant_env(ctx: click.Context, tenant_id: str):  # type: ignore[no-untyped-def]
    """The tenant's environment, its links signed with this deployment's master keys."""
    from bridge.invoices import tokens

    runtime = _runtime(ctx)
    runtime.migrate_if_configured()
    tokens.for_runtime(runtime)
    return runtime.tenant_env(tenant_id)


@cli.group()
def links() -> None:
    """Payors' pay links."""


@links.command("account")
@click.argument("tenant_id")
@click.argument("kb_account_id")
@click.option("--send", is_flag=True,
              help="also send it to the payor on the account's channels, as \"pay your open invoices\" "
                   "(once per issued link)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def links_account(ctx: click.Context, tenant_id: str, kb_account_id: str, send: bool, as_json: bool) -> None:
    """Issue the account's link to pay all its open invoices at once (exit 1 when nothing is open).

    The URL is a bearer link: give it to the payor only.
    """
    from bridge.invoices import admin

    issued = admin.issue_account_link(_tenant_env(ctx, tenant_id), kb_account_id, send=send)
    if as_json:
        _echo_json(issued.model_dump(mode="json"))
        return
    _pairs([("url", issued.url), ("expires at", issued.expires_at.isoformat(timespec="seconds")),
            ("total", f"{issued.total} {issued.currency}"),
            ("sent", "queued for the payor" if issued.sent else
             "already sent for this link" if send else "no (--send sends it)")])
    click.echo()
    _table([(i.kb_invoice_id, i.invoice_number, i.invoice_date, i.balance, i.currency) for i in issued.open_invoices],
           ("INVOICE", "NUMBER", "DATE", "BALANCE", "CURRENCY"))


@cli.group()
def reminders() -> None:
    """Payment reminders of a payor's account: the opt-out."""


@reminders.command("status")
@click.argument("tenant_id")
@click.argument("kb_account_id")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def reminders_status(ctx: click.Context, tenant_id: str, kb_account_id: str, as_json: bool) -> None:
    """Whether the account's payor opted out of payment reminders, since when."""
    from bridge.invoices import admin

    view = admin.reminder_opt_out(_tenant_env(ctx, tenant_id), kb_account_id)
    if as_json:
        _echo_json(view.model_dump(mode="json"))
    elif view.opted_out and view.since is not None:
        click.echo(f"account {view.kb_account_id}: opted out of payment reminders since "
                   f"{view.since.isoformat(timespec='seconds')} ({view.source})")
    else:
        click.echo(f"account {view.kb_account_id}: gets payment reminders")


@reminders.command("resubscribe")
@click.argument("tenant_id")
@click.argument("kb_account_id")
@click.pass_context
def reminders_resubscribe(ctx: click.Context, tenant_id: str, kb_account_id: str) -> None:
    """Undo the payor's opt-out: invoices asked for from now on get their reminders."""
    from bridge.invoices import admin

    was_out = admin.resubscribe(_tenant_env(ctx, tenant_id), kb_account_id)
    click.echo(f"account {kb_account_id}: " + ("resubscribed to payment reminders" if was_out
                                                 else "was not opted out; gets payment reminders"))


# -- keys -----------------------------------------------------------------------------------------
@cli.group()
def keys() -> None:
    """Master keys of the secrets at rest."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new master key (put it first in BRIDGE_MASTER_KEYS)."""
    from bridge.tenancy.crypto import generate_key

    click.echo(generate_key())


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Re-encrypt every stored secret with the newest key of BRIDGE_MASTER_KEYS."""
    from bridge.tenancy.service import rotate_secrets

    runtime = _runtime(ctx)
    if not runtime.settings.master_keys:
        raise ConfigError("BRIDGE_MASTER_KEYS: set it (newest key first, old keys after) before rotating")
    with _session(ctx) as session:
        count = rotate_secrets(session, runtime.keyring)
    click.echo(f"re-encrypted {count} secret(s) with the newest master key; "
               "old keys may now be removed from BRIDGE_MASTER_KEYS")


# -- simulators -----------------------------------------------------------------------------------
@cli.group()
def simulate() -> None:
    """Run a simulator of Hyperswitch or Kill Bill for local testing."""


@simulate.command("hyperswitch")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
def simulate_hyperswitch(host: str, port: int) -> None:
    """A stateful Hyperswitch simulator (payments, refunds, mandates, links, webhooks, faults)."""
    from bridge.simulators.hyperswitch import serve as serve_simulator

    serve_simulator(host=host, port=port)


@simulate.command("killbill")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8081, show_default=True)
def simulate_killbill(host: str, port: int) -> None:
    """A stateful Kill Bill simulator (tenants, accounts, invoices, payments, push notifications)."""
    from bridge.simulators.killbill import serve as serve_simulator

    serve_simulator(host=host, port=port)


# -- demo -----------------------------------------------------------------------------------------
@cli.command()
@click.option("--non-interactive", is_flag=True,
              help="pay the pay-by-link invoice itself instead of waiting for you to pay it in a browser")
@click.option("--port-base", type=click.IntRange(1, 65532), default=None,
              help="listen on PORT (Hyperswitch), PORT+1 (Kill Bill), PORT+2 (bridge), PORT+3 (SMTP) "
                   "[default: free ports]")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="keep the SQLite database and the log here [default: a temporary directory, removed "
                   "afterwards unless a step failed]")
@click.option("--step-timeout", type=click.FloatRange(1, 600), default=30.0, show_default=True,
              help="seconds a step may wait for its expected state")
@click.pass_context
def demo(ctx: click.Context, non_interactive: bool, port_base: int | None, data_dir: Path | None,
         step_timeout: float) -> None:
    """See it work: the whole product on simulators, on this machine, with no account anywhere.

    Starts the Hyperswitch and Kill Bill simulators, an SMTP sink, the bridge and a worker on loopback;
    maps a tenant, adds two payors, then shows an automatic payment, a declined one, an asynchronous one
    settled by a webhook, a refund and an invoice paid by link. Exits 0 only when every step reached its
    expected state; Ctrl-C stops everything it started.
    """
    from bridge.demo import DemoOptions, run_demo

    result = run_demo(DemoOptions(interactive=not non_interactive, port_base=port_base, data_dir=data_dir,
                                  step_timeout=step_timeout))
    if result.summary is not None and result.summary[1]:
        headers, rows = result.summary
        click.echo()
        _table(rows, headers)
        click.echo()
    click.echo(result.message if result.ok else f"error: {result.message}", err=not result.ok)
    ctx.exit(result.exit_code)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="bridge")


if __name__ == "__main__":
    main()
