"""A stand-in metadata service for host tests: serves a JSON map of path -> body.

Run as `python3 metadata_server.py DOCS_JSON ADDRESS PORT LOG`; prints "ready" once it listens
and appends each requested path to LOG.
"""

import http.server
import json
import sys


def main() -> None:
    docs_file, address, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(docs_file) as f:
        docs = json.load(f)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with open(log, "a") as out:
                out.write(f"{self.client_address[0]} {self.path}\n")
            body = docs.get(self.path)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((address, port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
