"""Twisted's RFC 865 server (twisted.protocols.wire.QOTD) for the QOTD
benchmark, replying with a fixed quote of SIZE bytes like the bare server:
run with Debian's python3-twisted as `python3 twisted_qotd.py PORT SIZE`."""
import sys

from twisted.internet import protocol, reactor
from twisted.protocols import wire

port = int(sys.argv[1]) if len(sys.argv) > 1 else 1719
size = int(sys.argv[2]) if len(sys.argv) > 2 else 120
reply = b"x" * max(size - 2, 0) + b"\r\n"


class QOTD(wire.QOTD):
    def getQuote(self):
        return reply


factory = protocol.ServerFactory()
factory.protocol = QOTD
reactor.listenTCP(port, factory, interface="127.0.0.1", backlog=4096)
print("twisted QOTD listening on 127.0.0.1:%d" % port, flush=True)
reactor.run()
