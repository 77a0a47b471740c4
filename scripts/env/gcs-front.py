#!/usr/bin/env python3
"""gcs-front: a reverse proxy in front of fake-gcs-server (upstream, unmodified) that serves the
Google Cloud Storage XML API calls object_store's GCS client makes and upstream lacks.

    gcs-front.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT --uploads DIR

object_store writes through the XML API only. fake-gcs-server (v1.56.1) serves its listing,
downloads and deletes, but answers an XML upload (PUT /bucket/object) with 400 "invalid
uploadType" and has no XML multipart upload at all (fsouza/fake-gcs-server issues #331 and #852;
pull requests #1164 and #1819, open). This front serves exactly these requests:

    PUT    /bucket/object                          upload: sent on as a JSON API media upload
    POST   /bucket/object?uploads                  start a multipart upload
    PUT    /bucket/object?partNumber=N&uploadId=U  store a part under DIR/U/
    POST   /bucket/object?uploadId=U               complete: the listed parts, in ascending order
                                                   and with their ETags, uploaded as one object
    DELETE /bucket/object?uploadId=U               abort
    GET    /bucket?list-type=2                     404 NoSuchBucket for a missing bucket (upstream
                                                   answers 500, which clients retry for minutes)

and forwards every other request as it came (method, target, headers, body) to fake-gcs-server.
Objects are stored through upstream's own JSON API, so what that API lists is what was written
here. These endpoints follow our reading of Google's XML API documentation
(https://cloud.google.com/storage/docs/xml-api/), not Google's servers. Like upstream, nothing
checks credentials. Python standard library only; bodies stream in CHUNK-sized pieces.
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

CHUNK = 1 << 20
# First path segments of fake-gcs-server's own routes: never a bucket in the XML API's sense.
RESERVED = {"storage", "upload", "download", "batch", "_internal"}
# Headers about one connection rather than the message (RFC 9110 section 7.6.1), and Expect, which
# http.server has already answered with 100 Continue: not forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
              "upgrade", "expect"}
# Object attributes an XML upload sends as headers, kept from a multipart upload's start for its
# completion; the rest of its headers are not kept.
ATTRIBUTES = {"content-type", "cache-control", "content-disposition", "content-language",
              "content-encoding"}
UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
MD5_HEX = re.compile(r"[0-9a-f]{32}")


def xml(root, **fields):
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{inner}</{root}>'.encode()


def quote(s):
    return urllib.parse.quote(s, safe="")


def file_chunks(paths):
    for path in paths:
        with open(path, "rb") as f:
            while data := f.read(CHUNK):
                yield data


class Front(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the connection open between requests, as clients pool them.
    protocol_version = "HTTP/1.1"
    upstream = ("127.0.0.1", 4443)
    uploads = "."

    def handle_any(self):
        self.body, self.responded = self.request_body(), False
        length = int(self.headers.get("Content-Length") or 0)
        self.unread = "Transfer-Encoding" in self.headers or length > 0
        target = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(target.query, keep_blank_values=True)
        first, _, rest = target.path.removeprefix("/").partition("/")
        bucket, name = urllib.parse.unquote(first), urllib.parse.unquote(rest)
        method = self.command
        try:
            if not first or first in RESERVED or (not name and method != "GET"):
                self.relay(self.forward(method, self.path, self.headers.items(), self.body))
            elif not name:
                if self.bucket_exists(bucket):
                    self.relay(self.forward(method, self.path, self.headers.items(), self.body))
            elif method == "POST" and "uploads" in query:
                self.initiate(bucket, name)
            elif method == "PUT" and "uploadId" in query:
                self.put_part(query["uploadId"][0], query.get("partNumber", [""])[0])
            elif method == "POST" and "uploadId" in query:
                self.complete(query["uploadId"][0])
            elif method == "DELETE" and "uploadId" in query:
                self.abort(query["uploadId"][0])
            elif method == "PUT" and "uploadType" not in query and "X-Goog-Algorithm" not in query:
                self.put_object(bucket, name)
            else:
                self.relay(self.forward(method, self.path, self.headers.items(), self.body))
        except OSError as e:
            # fake-gcs-server unreachable, or the client gone: this connection is done.
            self.log_error("%s %s: %s", method, self.path, e)
            self.close_connection = True
            if not self.responded:
                self.unread = True
                self.error(502, "InternalError", f"fake-gcs-server: {e}")

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    def send_response_only(self, code, message=None):
        super().send_response_only(code, message)
        if code < 200:  # 100 Continue, sent by http.server before handle_any
            return
        self.responded = True
        # An answer before the whole body was read (an error) ends the connection, which is
        # cheaper than reading the rest and keeps the next request's line where it belongs.
        if self.unread:
            self.send_header("Connection", "close")

    def request_body(self):
        """The request's body as a stream of chunks, by Content-Length or chunked coding."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while size := int(self.rfile.readline().split(b";")[0], 16):
                yield from self.read_exactly(size)
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailer fields
                pass
        else:
            yield from self.read_exactly(int(self.headers.get("Content-Length") or 0))
        self.unread = False

    def read_exactly(self, size):
        while size > 0:
            data = self.rfile.read(min(size, CHUNK))
            if not data:
                raise ConnectionError("client closed the connection mid-body")
            size -= len(data)
            yield data

    def forward(self, method, target, headers, body):
        """Sends a request to fake-gcs-server, headers in their order, the body as it streams."""
        conn = http.client.HTTPConnection(*self.upstream, timeout=300)
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        headers = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        chunked = (method in ("PUT", "POST", "PATCH")
                   and not any(k.lower() == "content-length" for k, _ in headers))
        for k, v in headers:
            conn.putheader(k, v)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for data in body:
            conn.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            conn.send(b"0\r\n\r\n")
        return conn.getresponse()

    def relay(self, resp):
        """Answers with fake-gcs-server's response: status, headers in order, body streamed."""
        self.log_request(resp.status)
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        if self.command == "HEAD" or resp.status in (204, 304):
            self.end_headers()
        elif resp.chunked or resp.length is None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while data := resp.read(CHUNK):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.end_headers()
            while data := resp.read(CHUNK):
                self.wfile.write(data)
        resp.close()

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        self.reply(status, xml("Error", Code=code, Message=message))

    def bucket_exists(self, bucket):
        """Upstream lists a missing bucket with 500; clients expect 404 NoSuchBucket."""
        host = [("Host", self.headers["Host"])]
        resp = self.forward("GET", f"/storage/v1/b/{quote(bucket)}", host, [])
        resp.read()
        if resp.status == 404:
            self.error(404, "NoSuchBucket", "The specified bucket does not exist.")
        return resp.status != 404

    def upload(self, bucket, name, headers, body):
        """Stores an object through upstream's JSON API media upload (the same call its own
        clients make); returns upstream's object resource, or None after answering the error."""
        query = {"uploadType": "media", "name": name}
        # The XML API's condition and stored encoding are headers, the JSON API's query parameters.
        # Upstream would gunzip a body sent with Content-Encoding: gzip, so that header stays here.
        for header, param in (("x-goog-if-generation-match", "ifGenerationMatch"),
                              ("content-encoding", "contentEncoding")):
            value = next((v for k, v in headers if k.lower() == header), None)
            if value is not None:
                query[param] = value
        headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
        target = f"/upload/storage/v1/b/{quote(bucket)}/o?{urllib.parse.urlencode(query)}"
        resp = self.forward("POST", target, headers, body)
        data = resp.read()
        if resp.status == 404:
            self.error(404, "NoSuchBucket", "The specified bucket does not exist.")
        elif resp.status == 412:
            self.error(412, "PreconditionFailed", "the object's generation does not match")
        elif resp.status != 200:
            self.error(resp.status, "InternalError", data.decode(errors="replace"))
        else:
            return json.loads(data)
        return None

    def put_object(self, bucket, name):
        if "x-goog-copy-source" in self.headers:
            # object_store's copy; ark never copies, so it is not served here.
            self.error(501, "NotImplemented", "copying objects is not served by gcs-front")
            return
        stored = self.upload(bucket, name, self.headers.items(), self.body)
        if stored is not None:
            self.reply(200, headers=[("ETag", f'"{stored["etag"]}"'),
                                     ("x-goog-generation", stored["generation"])])

    def initiate(self, bucket, name):
        if not self.bucket_exists(bucket):
            return
        upload_id = secrets.token_hex(16)
        attributes = [(k, v) for k, v in self.headers.items()
                      if k.lower() in ATTRIBUTES or k.lower().startswith("x-goog-meta-")]
        os.makedirs(os.path.join(self.uploads, upload_id))
        with open(os.path.join(self.uploads, upload_id, "upload.json"), "w") as f:
            json.dump({"bucket": bucket, "name": name, "attributes": attributes}, f)
        self.reply(200, xml("InitiateMultipartUploadResult", Bucket=bucket, Key=name,
                            UploadId=upload_id))

    def upload_dir(self, upload_id):
        path = os.path.join(self.uploads, upload_id)
        if UPLOAD_ID.fullmatch(upload_id) and os.path.isdir(path):
            return path
        self.error(404, "NoSuchUpload", "The requested upload was not found.")
        return None

    def put_part(self, upload_id, number):
        if not number.isdigit() or not 1 <= int(number) <= 10000:
            self.error(400, "InvalidArgument", f"invalid partNumber {number!r}")
            return
        if not (path := self.upload_dir(upload_id)):
            return
        # A part's file is named by its number and MD5, its ETag: completion names both.
        md5 = hashlib.md5()
        try:
            fd, temp = tempfile.mkstemp(dir=path, prefix=".part-")
        except FileNotFoundError:  # aborted meanwhile
            self.error(404, "NoSuchUpload", "The requested upload was not found.")
            return
        with os.fdopen(fd, "wb") as f:
            for data in self.body:
                md5.update(data)
                f.write(data)
        part = f"{int(number)}.{md5.hexdigest()}"
        os.replace(temp, os.path.join(path, part))
        for other in os.listdir(path):
            if other.startswith(f"{int(number)}.") and other != part:
                os.remove(os.path.join(path, other))
        self.reply(200, headers=[("ETag", f'"{md5.hexdigest()}"')])

    def complete(self, upload_id):
        try:
            listed = ElementTree.fromstring(b"".join(self.body)).findall("{*}Part")
            parts = [(int(p.findtext("{*}PartNumber")), p.findtext("{*}ETag").strip('"'))
                     for p in listed]
        except (ElementTree.ParseError, TypeError, ValueError) as e:
            self.error(400, "MalformedXML", str(e))
            return
        if not (path := self.upload_dir(upload_id)):
            return
        if not parts:
            self.error(400, "MalformedXML", "no parts listed")
            return
        files = [os.path.join(path, f"{n}.{etag}") for n, etag in parts]
        for (n, etag), previous, file in zip(parts, [0] + [n for n, _ in parts], files):
            if n <= previous:
                self.error(400, "InvalidPartOrder", "parts must be listed in ascending order")
                return
            if not MD5_HEX.fullmatch(etag) or not os.path.isfile(file):
                self.error(400, "InvalidPart", f"part {n} was not uploaded with that ETag")
                return
        with open(os.path.join(path, "upload.json")) as f:
            upload = json.load(f)
        bucket, name = upload["bucket"], upload["name"]
        size = sum(os.path.getsize(file) for file in files)
        headers = [("Host", self.headers["Host"]), ("Content-Length", str(size)),
                   *upload["attributes"]]
        stored = self.upload(bucket, name, headers, file_chunks(files))
        if stored is None:
            return
        shutil.rmtree(path, ignore_errors=True)
        self.log_message("completed multipart upload %s/%s: %d parts, %d bytes",
                         bucket, name, len(parts), size)
        body = xml("CompleteMultipartUploadResult", Location=f"/{bucket}/{name}", Bucket=bucket,
                   Key=name, ETag=f'"{stored["etag"]}"')
        self.reply(200, body, headers=[("x-goog-generation", stored["generation"])])

    def abort(self, upload_id):
        if path := self.upload_dir(upload_id):
            shutil.rmtree(path, ignore_errors=True)
            self.reply(204)


def address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=address, required=True, help="HOST:PORT to serve on")
    parser.add_argument("--upstream", type=address, required=True,
                        help="fake-gcs-server's HOST:PORT")
    parser.add_argument("--uploads", required=True, help="directory for multipart uploads' parts")
    args = parser.parse_args()
    os.makedirs(args.uploads, exist_ok=True)
    Front.upstream, Front.uploads = args.upstream, args.uploads
    server = http.server.ThreadingHTTPServer(args.listen, Front)
    print(f"gcs-front on http://{args.listen[0]}:{args.listen[1]}, fake-gcs-server at "
          f"http://{args.upstream[0]}:{args.upstream[1]}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
