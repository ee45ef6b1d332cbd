"""Twisted's RFC 865 server (twisted.protocols.wire.QOTD), for the QOTD
benchmark: run with Debian's python3-twisted as `python3 twisted_qotd.py PORT`."""
import sys

from twisted.internet import protocol, reactor
from twisted.protocols import wire

port = int(sys.argv[1]) if len(sys.argv) > 1 else 1719
factory = protocol.ServerFactory()
factory.protocol = wire.QOTD
reactor.listenTCP(port, factory, interface="127.0.0.1", backlog=4096)
print("twisted QOTD listening on 127.0.0.1:%d" % port, flush=True)
reactor.run()
