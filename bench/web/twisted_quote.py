"""Twisted web serving one quote resource, for comparison with quotesd.

    /usr/bin/python3 twisted_quote.py PORT BODY_FILE

Serves the bytes of BODY_FILE (today's quote as JSON) at every path, as
quotesd's memoised /api/v1/today does.
"""
import sys

from twisted.internet import reactor
from twisted.web import resource, server


class Quote(resource.Resource):
    isLeaf = True

    def __init__(self, body):
        super().__init__()
        self.body = body

    def render_GET(self, request):
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        return self.body


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        body = f.read()
    site = server.Site(Quote(body))
    site.noisy = False
    reactor.listenTCP(port, site, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
