"""A stand-in for Salesforce: a real HTTPS server on 127.0.0.1, in a thread.

It answers the endpoints the connector uses with the request and response
shapes of Salesforce's REST and Bulk API 2.0 documentation:

- ``POST /services/oauth2/token``: client credentials and JWT bearer
  (the assertion's RS256 signature, issuer, subject, audience and expiry
  are checked);
- ``GET .../query?q=`` and ``GET .../query/<locator>``: a small SOQL subset
  (``SELECT fields FROM object [WHERE SystemModstamp >= stamp] ORDER BY
  SystemModstamp ASC``) in pages linked by ``nextRecordsUrl``;
- ``PATCH .../sobjects/<object>/<external id field>/<value>``: upsert of one
  record (201 created, 200 updated, 400 with the error list);
- ``PATCH .../composite/sobjects/<object>/<external id field>``: sObject
  Collections upsert of up to 200 records, one result per record in order;
- Bulk API 2.0 ingest: ``POST .../jobs/ingest``, ``PUT .../batches`` (CSV),
  ``PATCH`` to ``UploadComplete`` or ``Aborted``, ``GET`` the job, and its
  ``successfulResults/``, ``failedResults/`` and ``unprocessedrecords/``.

Writes are checked against the sfdx object definitions in ``salesforce/``:
an unknown field, a value outside a restricted picklist, or a lookup by an
external id that does not exist fails that record as Salesforce would.

Tests script trouble: an expired session (401 INVALID_SESSION_ID), a 503,
REQUEST_LIMIT_EXCEEDED, a slow answer, refused rows, and a request that is
carried out but held unanswered (to stop a worker between Salesforce's
commit and its acknowledgement).
"""

import csv
import io
import ipaddress
import json
import re
import secrets
import ssl
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from entatio.crm.ids import salesforce_id_18

REPO = Path(__file__).resolve().parent.parent
OBJECTS = REPO / "salesforce" / "force-app" / "main" / "default" / "objects"
METADATA = "{http://soap.sforce.com/2006/04/metadata}"
API = "62.0"
DATA = f"/services/data/v{API}"

# Standard objects the push writes, with the fields it may set.
STANDARD_FIELDS: dict[str, dict[str, dict[str, str]]] = {
    "Campaign": {
        "Name": {"type": "Text"},
        "Type": {"type": "Text"},
        "Status": {"type": "Text"},
        "IsActive": {"type": "Checkbox"},
        "StartDate": {"type": "Date"},
        "EndDate": {"type": "Date"},
    },
    "CampaignMember": {
        "CampaignId": {"type": "Lookup", "referenceTo": "Campaign"},
        "ContactId": {"type": "Lookup", "referenceTo": "Contact"},
        "Status": {"type": "Text"},
    },
}
# Relationship names of the standard lookups above.
STANDARD_RELATIONS = {("CampaignMember", "Campaign"): "CampaignId"}
KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Entatio_Course__c": "a00",
    "Entatio_Section__c": "a01",
    "Entatio_Activity_Record__c": "a02",
}
SOQL = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<object>\w+)"
    r"(?: WHERE SystemModstamp >= (?P<since>[0-9T:\-]+Z))?"
    r" ORDER BY SystemModstamp ASC$"
)


@dataclass
class Fault:
    kind: str
    times: int
    path: str = ""


@dataclass
class Job:
    id: str
    sobject: str
    external_id_field: str
    state: str = "Open"
    csv_text: str = ""
    rows: int = 0
    successful: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    unprocessed: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    polls: int = 0


@dataclass
class Keys:
    """A self-signed TLS certificate for 127.0.0.1 and a JWT signing pair."""

    directory: Path
    certificate: Path
    tls_key: Path
    jwt_private_pem: str
    jwt_public_pem: str


def make_keys(directory: Path) -> Keys:
    directory.mkdir(parents=True, exist_ok=True)
    tls_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(tls_key, hashes.SHA256())
    )
    certificate_path = directory / "standin.crt"
    key_path = directory / "standin.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        tls_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = signing.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        signing.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    return Keys(directory, certificate_path, key_path, private_pem, public_pem)


def load_schema() -> dict[str, dict[str, dict[str, Any]]]:
    """Fields of each object the push writes, from the sfdx source."""
    schema: dict[str, dict[str, dict[str, Any]]] = {
        name: dict(fields) for name, fields in STANDARD_FIELDS.items()
    }
    for directory in sorted(OBJECTS.iterdir()):
        fields = schema.setdefault(directory.name, {})
        if directory.name.endswith("__c"):
            fields["Name"] = {"type": "Text"}
        for path in sorted((directory / "fields").glob("*.field-meta.xml")):
            root = ElementTree.parse(path).getroot()
            text = {child.tag.removeprefix(METADATA): child for child in root}
            fields[text["fullName"].text or ""] = {
                "type": text["type"].text,
                "referenceTo": getattr(text.get("referenceTo"), "text", None),
                "externalId": getattr(text.get("externalId"), "text", "") == "true",
                "values": [
                    v.findtext(f"{METADATA}fullName")
                    for v in root.iter(f"{METADATA}value")
                ],
            }
    return schema


class SalesforceStandIn:
    def __init__(
        self,
        keys: Keys,
        client_id: str = "standin-client",
        client_secret: str = "standin-secret-0123456789",
        username: str = "integration@acme.test",
        page_size: int = 2,
    ) -> None:
        self.keys = keys
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.page_size = page_size
        self.schema = load_schema()
        self.lock = threading.RLock()
        self.tokens: set[str] = set()
        self.issued: list[str] = []
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.by_external: dict[tuple[str, str], str] = {}
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        self.jobs: dict[str, Job] = {}
        self.faults: list[Fault] = []
        self.rejections: dict[tuple[str, str], tuple[str, str, int]] = {}
        self.log: list[tuple[str, str]] = []
        self.writes: dict[tuple[str, str], int] = {}
        self.creations: dict[tuple[str, str], int] = {}
        self.logins: list[str] = []
        self.delay = 0.0
        self.held = threading.Event()
        self.release = threading.Event()
        self.hold_path = ""
        self._counter = 0
        self.server: ThreadingHTTPServer | None = None

    # Running --------------------------------------------------------------

    def start(self) -> "SalesforceStandIn":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.keys.certificate, self.keys.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Settings for a client-credentials connection to this stand-in."""
        return {
            "login_url": self.url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca_bundle": str(self.keys.certificate),
            "timeout": 5.0,
            "backoff_seconds": 0.0,
            "poll_seconds": 0.0,
            **overrides,
        }

    # Scripting ------------------------------------------------------------

    def fail(self, kind: str, times: int = 1, path: str = "") -> None:
        """The next matching data requests fail: expired, unavailable, limit."""
        with self.lock:
            self.faults.append(Fault(kind, times, path))

    def reject(
        self,
        sobject: str,
        external_id: str,
        code: str = "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        message: str = "Refused by a validation rule",
        times: int = 1,
    ) -> None:
        with self.lock:
            self.rejections[(sobject, external_id)] = (code, message, times)

    def hold_after(self, path: str) -> None:
        """Carry out the next request to this path, then keep it unanswered."""
        self.hold_path = path
        self.held.clear()
        self.release.clear()

    def expire_sessions(self) -> None:
        with self.lock:
            self.tokens.clear()

    def seed(self, sobject: str, **values: Any) -> dict[str, Any]:
        """A record as if created in the org (Account, Contact, Opportunity)."""
        with self.lock:
            record = {"Id": values.pop("Id", None) or self._new_id(sobject), **values}
            record.setdefault("SystemModstamp", _now_stamp())
            self.records.setdefault(sobject, {})[record["Id"]] = record
            return record

    def update(self, sobject: str, record_id: str, **values: Any) -> None:
        with self.lock:
            self.records[sobject][record_id].update(values)

    def external(self, sobject: str, external_id: str) -> dict[str, Any] | None:
        with self.lock:
            record_id = self.by_external.get((sobject, external_id))
            return self.records[sobject][record_id] if record_id else None

    def count(self, sobject: str) -> int:
        with self.lock:
            return len(self.records.get(sobject, {}))

    def calls(self, kind: str) -> int:
        with self.lock:
            return sum(1 for k, _ in self.log if k == kind)

    # Behaviour ------------------------------------------------------------

    def _new_id(self, sobject: str) -> str:
        self._counter += 1
        prefix = KEY_PREFIXES.get(sobject, "a09")
        return salesforce_id_18(f"{prefix}Sx{self._counter:010d}")

    def login(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            if (form.get("client_id"), form.get("client_secret")) != (
                self.client_id,
                self.client_secret,
            ):
                return 400, {
                    "error": "invalid_client",
                    "error_description": "invalid client credentials",
                }
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problem = self._check_assertion(form.get("assertion", ""))
            if problem:
                return 400, {"error": "invalid_grant", "error_description": problem}
        else:
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "grant type not supported",
            }

        token = "00DSTANDIN!" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(token)
            self.issued.append(token)
            self.logins.append(grant)
        return 200, {
            "access_token": token,
            "instance_url": self.url,
            "id": f"{self.url}/id/00DSx0000000001/005Sx0000000001",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": secrets.token_urlsafe(16),
        }

    def _check_assertion(self, assertion: str) -> str:
        try:
            claims = jwt.decode(
                assertion,
                self.keys.jwt_public_pem,
                algorithms=["RS256"],
                audience=self.url,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.InvalidTokenError as error:
            return f"invalid assertion: {type(error).__name__}"
        if claims["iss"] != self.client_id:
            return "invalid client identifier"
        if claims["sub"] != self.username:
            return "user hasn't approved this consumer"
        return ""

    def authorized(self, header: str) -> bool:
        with self.lock:
            return header.removeprefix("Bearer ") in self.tokens

    def fault_for(self, path: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.path in path:
                    fault.times -= 1
                    if fault.kind == "expired":
                        self.tokens.clear()
                    return fault.kind
        return None

    def query(self, soql: str) -> tuple[int, Any]:
        match = SOQL.match(soql.strip())
        if not match:
            return 400, [
                {"message": f"unexpected query {soql}", "errorCode": "MALFORMED_QUERY"}
            ]
        fields = [f.strip() for f in match["fields"].split(",")]
        since = match["since"]
        with self.lock:
            records = list(self.records.get(match["object"], {}).values())
        chosen = sorted(
            (r for r in records if since is None or _stamp_key(r) >= _since_key(since)),
            key=_stamp_key,
        )
        shaped = [_shape(match["object"], r, fields) for r in chosen]
        return 200, self._page(shaped, 0)

    def query_more(self, locator: str) -> tuple[int, Any]:
        cursor, _, offset = locator.rpartition("-")
        with self.lock:
            records = self.cursors.get(cursor)
        if records is None:
            return 400, [
                {
                    "message": "invalid query locator",
                    "errorCode": "INVALID_QUERY_LOCATOR",
                }
            ]
        return 200, self._page(records, int(offset))

    def _page(self, records: list[dict[str, Any]], offset: int) -> dict[str, Any]:
        end = offset + self.page_size
        page: dict[str, Any] = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if not page["done"]:
            cursor = "01gSx" + secrets.token_hex(6)
            with self.lock:
                self.cursors[cursor] = records
            page["nextRecordsUrl"] = f"{DATA}/query/{cursor}-{end}"
        return page

    def upsert(
        self, sobject: str, id_field: str, external_id: str, fields: dict[str, Any]
    ) -> tuple[bool, bool, str, list[dict[str, Any]]]:
        """(ok, created, record id, errors) for one record, as Salesforce would."""
        with self.lock:
            errors = self._problems(sobject, id_field, external_id, fields)
            if errors:
                return False, False, "", errors
            values = self._resolved(sobject, fields)
            key = (sobject, external_id)
            record_id = self.by_external.get(key)
            created = record_id is None
            if created:
                record_id = self._new_id(sobject)
                self.by_external[key] = record_id
                self.records.setdefault(sobject, {})[record_id] = {"Id": record_id}
                self.creations[key] = self.creations.get(key, 0) + 1
            record = self.records[sobject][record_id]
            record.update(values)
            record[id_field] = external_id
            self.writes[key] = self.writes.get(key, 0) + 1
            return True, created, record_id, []

    def _problems(
        self, sobject: str, id_field: str, external_id: str, fields: dict[str, Any]
    ) -> list[dict[str, Any]]:
        schema = self.schema.get(sobject)
        if schema is None:
            return [_error("NOT_FOUND", f"sObject type '{sobject}' is not supported.")]
        if not schema.get(id_field, {}).get("externalId"):
            return [_error("INVALID_FIELD", f"{id_field} is not an external id field")]
        if not external_id:
            return [_error("MISSING_ARGUMENT", f"{id_field} not specified")]

        rejection = self.rejections.get((sobject, external_id))
        if rejection and rejection[2] > 0:
            code, message, times = rejection
            self.rejections[(sobject, external_id)] = (code, message, times - 1)
            return [_error(code, message)]

        for name, value in fields.items():
            problem = self._field_problem(sobject, schema, name, value)
            if problem:
                return [problem]
        return []

    def _field_problem(
        self, sobject: str, schema: dict[str, Any], name: str, value: Any
    ) -> dict[str, Any] | None:
        if "." in name:
            relation, target_field = name.split(".", 1)
            lookup = self._lookup_field(sobject, relation)
            if lookup is None or lookup not in schema:
                return _error(
                    "INVALID_FIELD", f"No such relation '{relation}' on {sobject}"
                )
            target = schema[lookup]["referenceTo"]
            if value and (target, value) not in self.by_external:
                return _error(
                    "INVALID_FIELD",
                    f"Foreign key external ID: {value} not found for field "
                    f"{target_field} in entity {target}",
                )
            return None
        if name not in schema:
            return _error(
                "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
            )
        target = schema[name].get("referenceTo")
        if target and value and value not in self.records.get(target, {}):
            return _error(
                "INVALID_CROSS_REFERENCE_KEY",
                f"invalid cross reference id: {value} is no {target}",
            )
        allowed = schema[name].get("values")
        if schema[name]["type"] == "Picklist" and value not in (None, "", *allowed):
            return _error(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"bad value for restricted picklist field: {value}",
            )
        return None

    def _lookup_field(self, sobject: str, relation: str) -> str | None:
        if (sobject, relation) in STANDARD_RELATIONS:
            return STANDARD_RELATIONS[(sobject, relation)]
        if relation.endswith("__r"):
            return relation[:-3] + "__c"
        return None

    def _resolved(self, sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for name, value in fields.items():
            if "." in name:
                relation, _ = name.split(".", 1)
                lookup = self._lookup_field(sobject, relation) or ""
                target = self.schema[sobject][lookup]["referenceTo"]
                values[lookup] = self.by_external.get((target, value))
            else:
                values[name] = value
        return values

    # Bulk API 2.0 ---------------------------------------------------------

    def create_job(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("operation") != "upsert" or body.get("contentType") != "CSV":
            return 400, [_error("INVALIDJOB", "only CSV upsert jobs are supported")]
        with self.lock:
            job = Job(
                "750Sx" + secrets.token_hex(5),
                body["object"],
                body["externalIdFieldName"],
            )
            self.jobs[job.id] = job
        return 200, self._job_info(job)

    def upload(self, job_id: str, text: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None or job.state != "Open":
            return 400, [_error("INVALIDJOBSTATE", "the job is not open for data")]
        job.csv_text += text
        return 201, None

    def change_job(self, job_id: str, state: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, [_error("NOT_FOUND", "no such job")]
        if state == "Aborted":
            job.state = "Aborted"
        elif state == "UploadComplete":
            job.state = "UploadComplete"
            self._process(job)
        return 200, self._job_info(job)

    def job(self, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, [_error("NOT_FOUND", "no such job")]
        job.polls += 1
        if job.state == "UploadComplete":
            # The first poll finds the job still running, as a real one would.
            job.state = "InProgress"
        elif job.state == "InProgress":
            job.state = "JobComplete"
        return 200, self._job_info(job)

    def _process(self, job: Job) -> None:
        reader = csv.DictReader(io.StringIO(job.csv_text))
        job.columns = list(reader.fieldnames or [])
        for row in reader:
            job.rows += 1
            fields = {k: _bulk_value(v) for k, v in row.items() if v != ""}
            external_id = row.get(job.external_id_field, "")
            fields.pop(job.external_id_field, None)
            ok, created, record_id, errors = self.upsert(
                job.sobject, job.external_id_field, external_id, fields
            )
            if ok:
                job.successful.append(
                    {"sf__Id": record_id, "sf__Created": str(created).lower(), **row}
                )
            else:
                error = errors[0]
                job.failed.append(
                    {
                        "sf__Id": "",
                        "sf__Error": f"{error['errorCode']}:{error['message']}:--",
                        **row,
                    }
                )

    def results(self, job_id: str, kind: str) -> tuple[int, str]:
        job = self.jobs[job_id]
        if kind == "successfulResults":
            return 200, _csv(["sf__Id", "sf__Created", *job.columns], job.successful)
        if kind == "failedResults":
            return 200, _csv(["sf__Id", "sf__Error", *job.columns], job.failed)
        return 200, _csv(job.columns, job.unprocessed)

    def _job_info(self, job: Job) -> dict[str, Any]:
        return {
            "id": job.id,
            "operation": "upsert",
            "object": job.sobject,
            "createdById": "005Sx0000000001AAA",
            "createdDate": _now_stamp(),
            "systemModstamp": _now_stamp(),
            "state": job.state,
            "externalIdFieldName": job.external_id_field,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(API),
            "jobType": "V2Ingest",
            "contentUrl": f"services/data/v{API}/jobs/ingest/{job.id}/batches",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
            "numberRecordsProcessed": job.rows if job.state == "JobComplete" else 0,
            "numberRecordsFailed": len(job.failed) if job.state == "JobComplete" else 0,
            "retries": 0,
            "totalProcessingTime": 0,
        }


def _handler_for(standin: SalesforceStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``standin.log`` instead."""

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8") if length else ""
            parts = urlparse(self.path)
            try:
                status, answer, kind = self._route(
                    method, parts.path, parts.query, body
                )
            except Exception as error:  # a stand-in bug shows as a 500
                status, answer, kind = (
                    500,
                    [_error("UNKNOWN_EXCEPTION", repr(error))],
                    "error",
                )
            with standin.lock:
                standin.log.append((kind, f"{method} {parts.path}"))

            if standin.hold_path and standin.hold_path in parts.path:
                standin.hold_path = ""
                standin.held.set()
                standin.release.wait(timeout=30)
                return
            if standin.delay:
                time.sleep(standin.delay)
            self._answer(status, answer)

        def _answer(self, status: int, answer: Any) -> None:
            if isinstance(answer, str):
                payload, kind = answer.encode(), "text/csv; charset=UTF-8"
            elif answer is None:
                payload, kind = b"", "application/json"
            else:
                payload, kind = json.dumps(answer).encode(), "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Sforce-Limit-Info", "api-usage=25/15000")
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass

        def _route(
            self, method: str, path: str, query: str, body: str
        ) -> tuple[int, Any, str]:
            if path == "/services/oauth2/token" and method == "POST":
                form = {k: v[0] for k, v in parse_qs(body).items()}
                status, answer = standin.login(form)
                return status, answer, "token"

            if not standin.authorized(self.headers.get("Authorization", "")):
                return (
                    401,
                    [_error("INVALID_SESSION_ID", "Session expired or invalid")],
                    "expired",
                )
            fault = standin.fault_for(path)
            if fault == "expired":
                return (
                    401,
                    [_error("INVALID_SESSION_ID", "Session expired or invalid")],
                    "expired",
                )
            if fault == "unavailable":
                return (
                    503,
                    [_error("SERVER_UNAVAILABLE", "Service unavailable")],
                    "unavailable",
                )
            if fault == "limit":
                return (
                    403,
                    [_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")],
                    "limit",
                )
            return self._data(method, path, query, body)

        def _data(
            self, method: str, path: str, query: str, body: str
        ) -> tuple[int, Any, str]:
            if not path.startswith(DATA + "/"):
                return (
                    404,
                    [_error("NOT_FOUND", "The requested resource does not exist")],
                    "other",
                )
            rest = path.removeprefix(DATA + "/").rstrip("/")
            segments = [unquote(s) for s in rest.split("/")]

            if segments == ["query"] and method == "GET":
                status, answer = standin.query(parse_qs(query)["q"][0])
                return status, answer, "query"
            if segments[0] == "query" and len(segments) == 2:
                status, answer = standin.query_more(segments[1])
                return status, answer, "queryMore"
            if segments[0] == "sobjects" and len(segments) == 4 and method == "PATCH":
                return self._upsert_one(segments[1], segments[2], segments[3], body)
            if segments[:2] == ["composite", "sobjects"] and method == "PATCH":
                return self._collection(segments[2], segments[3], json.loads(body))
            if segments[:2] == ["jobs", "ingest"]:
                return self._bulk(method, segments[2:], body)
            return (
                404,
                [_error("NOT_FOUND", "The requested resource does not exist")],
                "other",
            )

        def _upsert_one(
            self, sobject: str, id_field: str, external_id: str, body: str
        ) -> tuple[int, Any, str]:
            fields = _flat(json.loads(body))
            if id_field in fields or "Id" in fields:
                message = "Do not specify Id or the external id field in the body"
                return 400, [_error("INVALID_FIELD", message)], "sobject"
            ok, created, record_id, errors = standin.upsert(
                sobject, id_field, external_id, fields
            )
            if not ok:
                return 400, errors, "sobject"
            answer = {
                "id": record_id,
                "success": True,
                "errors": [],
                "created": created,
            }
            return (201 if created else 200), answer, "sobject"

        def _collection(
            self, sobject: str, id_field: str, body: dict[str, Any]
        ) -> tuple[int, Any, str]:
            records = body.get("records", [])
            if len(records) > 200:
                return (
                    400,
                    [_error("EXCEEDED_ID_LIMIT", "record limit reached")],
                    "collection",
                )
            results = []
            for record in records:
                fields = _flat({k: v for k, v in record.items() if k != "attributes"})
                if record.get("attributes", {}).get("type") != sobject:
                    results.append(_failure(_error("INVALID_TYPE", "wrong type")))
                    continue
                external_id = str(fields.pop(id_field, ""))
                ok, created, record_id, errors = standin.upsert(
                    sobject, id_field, external_id, fields
                )
                if ok:
                    results.append(
                        {
                            "id": record_id,
                            "success": True,
                            "errors": [],
                            "created": created,
                        }
                    )
                else:
                    results.append(_failure(*errors))
            return 200, results, "collection"

        def _bulk(
            self, method: str, segments: list[str], body: str
        ) -> tuple[int, Any, str]:
            if not segments and method == "POST":
                status, answer = standin.create_job(json.loads(body))
                return status, answer, "bulk-create"
            job_id = segments[0]
            if segments[1:] == ["batches"] and method == "PUT":
                status, answer = standin.upload(job_id, body)
                return status, answer, "bulk-upload"
            if len(segments) == 1 and method == "PATCH":
                status, answer = standin.change_job(job_id, json.loads(body)["state"])
                return status, answer, "bulk-close"
            if len(segments) == 1 and method == "GET":
                status, answer = standin.job(job_id)
                return status, answer, "bulk-poll"
            if len(segments) == 2 and method == "GET":
                status, text = standin.results(job_id, segments[1])
                return status, text, "bulk-results"
            return 404, [_error("NOT_FOUND", "no such job resource")], "other"

    return Handler


@contextmanager
def running_standin(directory: Path, **options: Any) -> Iterator[SalesforceStandIn]:
    standin = SalesforceStandIn(make_keys(directory), **options).start()
    try:
        yield standin
    finally:
        standin.stop()


def _error(code: str, message: str) -> dict[str, Any]:
    return {"message": message, "errorCode": code, "fields": []}


def _failure(*errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [
            {"statusCode": e["errorCode"], "message": e["message"], "fields": []}
            for e in errors
        ],
    }


def _flat(body: dict[str, Any]) -> dict[str, Any]:
    """``{"Course__r": {"Entatio_Id__c": "x"}}`` as ``Course__r.Entatio_Id__c``."""
    flat: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                flat[f"{key}.{inner}"] = inner_value
        else:
            flat[key] = value
    return flat


def _bulk_value(text: str) -> Any:
    if text == "#N/A":
        return None
    if text in ("true", "false"):
        return text == "true"
    return text


def _shape(sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "attributes": {
            "type": sobject,
            "url": f"{DATA}/sobjects/{sobject}/{record['Id']}",
        }
    }
    for name in fields:
        shaped[name] = record.get(name)
    return shaped


def _stamp_key(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["SystemModstamp"])


def _since_key(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue()
