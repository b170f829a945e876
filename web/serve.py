#!/usr/bin/env python3
"""Serves web/dist on localhost with the right MIME type for .wasm.

    python3 web/serve.py [--port 8080] [--dir web/dist]
"""
import argparse
import functools
import http.server
import os

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=8080)
parser.add_argument("--bind", default="127.0.0.1")
parser.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "dist"))
args = parser.parse_args()


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript", ".ron": "text/plain"}

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *a):
        pass


with http.server.ThreadingHTTPServer((args.bind, args.port), functools.partial(Handler, directory=args.dir)) as httpd:
    print(f"serving {args.dir} on http://{args.bind}:{args.port}/ (Ctrl-C stops)", flush=True)
    httpd.serve_forever()
