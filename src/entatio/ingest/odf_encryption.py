"""Password-protected OpenDocument files (ODP, and ODF from Keynote's export).

ODF encrypts each part of the package on its own and says how in
``META-INF/manifest.xml``: the password's SHA-256 is stretched by PBKDF2 into
an AES-256-CBC key, each part is deflated and then encrypted, and a checksum
of its first kilobyte tells a wrong password from a damaged file. This is
what LibreOffice and OpenOffice have written since 2011. An unprotected copy
is written with every part in the clear and the manifest without the
encryption entries, so that LibreOffice and the deck reader need no password.
"""

import base64
import hashlib
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from entatio.ingest.archives import open_zip
from entatio.ingest.config import ingest_setting
from entatio.ingest.problems import UnreadableFile

MANIFEST = "META-INF/manifest.xml"
NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
AES_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
START_KEY_HASHES = {
    "http://www.w3.org/2000/09/xmldsig#sha256": "sha256",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "SHA1": "sha1",
}
CHECKSUMS = {
    f"{NS}#sha256-1k": ("sha256", 1024),
    "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k": ("sha256", 1024),
    "SHA1/1K": ("sha1", 1024),
    "SHA256/1K": ("sha256", 1024),
}


@dataclass(frozen=True)
class EncryptedPart:
    name: str
    iv: bytes
    salt: bytes
    iterations: int
    key_size: int
    start_key_hash: str
    checksum_hash: str
    checksum_bytes: int
    checksum: bytes


class WrongPassword(Exception):
    pass


def encrypted_parts(path: Path) -> list[EncryptedPart] | None:
    """The package's encrypted parts; None when nothing in it is encrypted."""
    try:
        with zipfile.ZipFile(path) as package:
            manifest = ET.fromstring(package.read(MANIFEST))
    except (KeyError, zipfile.BadZipFile, ET.ParseError):
        return None

    parts = []
    for entry in manifest.iter(f"{{{NS}}}file-entry"):
        data = entry.find(f"{{{NS}}}encryption-data")
        if data is not None:
            parts.append(part_of(entry, data))
    return parts or None


def part_of(entry: ET.Element, data: ET.Element) -> EncryptedPart:
    algorithm = data.find(f"{{{NS}}}algorithm")
    start = data.find(f"{{{NS}}}start-key-generation")
    derivation = data.find(f"{{{NS}}}key-derivation")

    def attribute(element: ET.Element | None, name: str, default: str = "") -> str:
        found = element.get(f"{{{NS}}}{name}") if element is not None else None
        return found if found is not None else default

    if (
        attribute(algorithm, "algorithm-name") != AES_CBC
        or attribute(derivation, "key-derivation-name") != "PBKDF2"
        or attribute(data, "checksum-type") not in CHECKSUMS
    ):
        raise unsupported()
    start_hash = START_KEY_HASHES.get(attribute(start, "start-key-generation-name"))
    if start is not None and start_hash is None:
        raise unsupported()
    checksum_hash, checksum_bytes = CHECKSUMS[attribute(data, "checksum-type")]
    return EncryptedPart(
        name=attribute(entry, "full-path"),
        iv=base64.b64decode(attribute(algorithm, "initialisation-vector")),
        salt=base64.b64decode(attribute(derivation, "salt")),
        iterations=int(attribute(derivation, "iteration-count", "1024")),
        key_size=int(attribute(derivation, "key-size", "32")),
        start_key_hash=start_hash or "sha1",
        checksum_hash=checksum_hash,
        checksum_bytes=checksum_bytes,
        checksum=base64.b64decode(attribute(data, "checksum")),
    )


def unsupported() -> UnreadableFile:
    return UnreadableFile(
        "its password protection is of a kind that cannot be removed here",
        "save it without a password and upload it again",
    )


def decrypted_package(
    path: Path, parts: list[EncryptedPart], password: str, target: Path
) -> Path:
    """Write the package with every part in the clear; WrongPassword if not."""
    by_name = {part.name: part for part in parts}
    keys: dict[tuple[bytes, int, int, str], bytes] = {}

    with open_zip(path) as package, zipfile.ZipFile(target, "w") as clear:
        for item in package.infolist():
            data = package.read(item)
            part = by_name.get(item.filename)
            if part is not None:
                data = decrypted_part(data, part, password, keys)
            elif item.filename == MANIFEST:
                data = manifest_in_the_clear(data)
            # ODF wants ``mimetype`` first and stored; the rest may deflate.
            stored = item.filename == "mimetype"
            method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            clear.writestr(item.filename, data, compress_type=method)
    return target


def decrypted_part(
    data: bytes, part: EncryptedPart, password: str, keys: dict
) -> bytes:
    # Parts share salt and count only by chance; each derivation is slow.
    cache_key = (part.salt, part.iterations, part.key_size, part.start_key_hash)
    if cache_key not in keys:
        start_key = hashlib.new(part.start_key_hash, password.encode()).digest()
        keys[cache_key] = hashlib.pbkdf2_hmac(
            "sha1", start_key, part.salt, part.iterations, part.key_size
        )

    decryptor = Cipher(algorithms.AES(keys[cache_key]), modes.CBC(part.iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    # The last byte says how many bytes of padding end the part.
    clear = padded[: -padded[-1]] if padded and 1 <= padded[-1] <= 16 else padded

    # Writers differ on whether the checksum covers the padding of a part
    # shorter than a kilobyte; a match either way is the right password.
    heads = {clear[: part.checksum_bytes], padded[: part.checksum_bytes]}
    if not any(
        hashlib.new(part.checksum_hash, head).digest() == part.checksum
        for head in heads
    ):
        raise WrongPassword

    return inflated(clear, part.name)


def inflated(data: bytes, name: str) -> bytes:
    """The part as written: deflated before it was encrypted, or stored."""
    limit = ingest_setting("ZIP_MAX_UNCOMPRESSED_BYTES")
    inflater = zlib.decompressobj(-15)
    try:
        result = inflater.decompress(data, limit)
    except zlib.error:
        # Parts stored without deflate (pictures, sometimes) are as they were.
        return data
    if inflater.unconsumed_tail:
        raise UnreadableFile(
            f"its part {name} unpacks to more than {limit >> 20} MB",
            "check the file; a deck this large is likely damaged",
        )
    return result


def manifest_in_the_clear(data: bytes) -> bytes:
    ET.register_namespace("manifest", NS)
    root = ET.fromstring(data)
    for entry in root.iter(f"{{{NS}}}file-entry"):
        for encryption in entry.findall(f"{{{NS}}}encryption-data"):
            entry.remove(encryption)
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8")
