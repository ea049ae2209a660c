# SPDX-License-Identifier: ISC
#
# http-load.py: a small, bounded HTTP load driver for the attack tests
# (python3, threads and plain sockets: what wrk does, counted by kind).
#
#   http-load.py keepalive PORT PATH FILE CTYPE CONNS REQS [SRC]
#       CONNS threads, each on one keep-alive connection (from source
#       address SRC, default 127.0.0.1), each sending REQS POSTs of FILE.
#       A connection reset, or closed before a whole answer, is counted
#       and the thread reconnects (as wrk does) and goes on.  After a 503
#       it pauses 50 ms (wrk does not; Retry-After asks for a second), so
#       that a queue briefly full does not take all its requests at once.
#   http-load.py vanish PORT PATH FILE CTYPE CONNS [SRC]
#       CONNS connections each send one whole request and close at once,
#       without reading the answer: clients gone mid-request.
#   http-load.py hold PORT PATH CTYPE CONNS LENGTH SECONDS [SRC [SENT]]
#       CONNS connections each send headers announcing LENGTH bytes and
#       SENT body bytes (default 1), then wait up to SECONDS for an answer
#       (a slow or header-only body); a connection answered meanwhile is
#       closed.
#       Prints the summary line once all are sent ("held N"), then the
#       final one when the time is up or every connection was answered.
#
# The summary is one JSON object on stdout: "status" (a count per HTTP
# status), "reset" (connections reset or closed before a whole answer),
# "connect" (connections refused), "timeout", "retry_after" (503s that
# carried Retry-After), "json503" (503s whose body was a JSON object with
# "error").
import json
import socket
import sys
import threading
import time

TIMEOUT = 60.0


class Tally:
	def __init__(self):
		self.lock = threading.Lock()
		self.d = {"status": {}, "reset": 0, "connect": 0, "timeout": 0,
		    "retry_after": 0, "json503": 0, "reset_errors": {}}

	def status(self, code, headers, body):
		with self.lock:
			k = str(code)
			self.d["status"][k] = self.d["status"].get(k, 0) + 1
			if code == 503:
				if "retry-after" in headers:
					self.d["retry_after"] += 1
				try:
					if "error" in json.loads(body):
						self.d["json503"] += 1
				except ValueError:
					pass

	def bump(self, what, why=None):
		with self.lock:
			self.d[what] += 1
			if why is not None:
				e = self.d["reset_errors"]
				e[why] = e.get(why, 0) + 1


class Closed(Exception):
	pass


def connect(port, src):
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.settimeout(TIMEOUT)
	s.bind((src, 0))
	s.connect(("127.0.0.1", port))
	return s


def request(path, ctype, body, length=None):
	n = len(body) if length is None else length
	return ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
	    "Content-Length: %d\r\n\r\n" % (path, ctype, n)).encode() + body


def read_answer(s, buf):
	"""One response from s: (status, headers, body, rest of buf)."""
	while b"\r\n\r\n" not in buf:
		d = s.recv(65536)
		if not d:
			raise Closed("eof")
		buf += d
	head, buf = buf.split(b"\r\n\r\n", 1)
	lines = head.decode("latin-1").split("\r\n")
	code = int(lines[0].split()[1])
	hd = {}
	for ln in lines[1:]:
		k, _, v = ln.partition(":")
		hd[k.strip().lower()] = v.strip()
	n = int(hd.get("content-length", "0"))
	while len(buf) < n:
		d = s.recv(65536)
		if not d:
			raise Closed("eof in body")
		buf += d
	return code, hd, buf[:n], buf[n:]


def keepalive(t, port, path, body, ctype, reqs, src):
	msg = request(path, ctype, body)
	s, buf, done = None, b"", 0
	while done < reqs:
		try:
			if s is None:
				try:
					s = connect(port, src)
				except OSError:
					t.bump("connect")
					time.sleep(0.01)
					done += 1
					continue
				buf = b""
			s.sendall(msg)
			code, hd, rb, buf = read_answer(s, buf)
			t.status(code, hd, rb)
			if code == 503:
				time.sleep(0.05)
			if hd.get("connection", "").lower() == "close":
				s.close()
				s = None
		except socket.timeout:
			t.bump("timeout")
			s.close()
			s = None
		except (OSError, Closed, ValueError, IndexError) as e:
			t.bump("reset", type(e).__name__ + ":" + str(e)[:40])
			if s is not None:
				s.close()
			s = None
		done += 1
	if s is not None:
		s.close()


def vanish(t, port, path, body, ctype, src):
	try:
		s = connect(port, src)
		s.sendall(request(path, ctype, body))
		# Gone before the answer, as a load generator stopped mid-run.
		s.close()
	except OSError:
		t.bump("connect")


def hold(t, port, path, ctype, length, nbody, until, src, sent):
	try:
		s = connect(port, src)
		s.sendall(request(path, ctype, b"x" * nbody, length))
	except OSError:
		t.bump("connect")
		sent.release()
		return
	sent.release()
	try:
		s.settimeout(max(0.1, until - time.monotonic()))
		code, hd, rb, _ = read_answer(s, b"")
		t.status(code, hd, rb)
	except socket.timeout:
		pass
	except (OSError, Closed, ValueError, IndexError) as e:
		t.bump("reset", type(e).__name__)
	s.close()


def main(a):
	t = Tally()
	th = []
	mode, port, path = a[0], int(a[1]), a[2]
	if mode == "keepalive":
		body = open(a[3], "rb").read()
		conns, reqs = int(a[5]), int(a[6])
		src = a[7] if len(a) > 7 else "127.0.0.1"
		for _ in range(conns):
			th.append(threading.Thread(target=keepalive, args=(t, port,
			    path, body, a[4], reqs, src)))
	elif mode == "vanish":
		body = open(a[3], "rb").read()
		conns = int(a[5])
		src = a[6] if len(a) > 6 else "127.0.0.1"
		for _ in range(conns):
			th.append(threading.Thread(target=vanish, args=(t, port,
			    path, body, a[4], src)))
	elif mode == "hold":
		conns, length = int(a[4]), int(a[5])
		until = time.monotonic() + float(a[6])
		src = a[7] if len(a) > 7 else "127.0.0.1"
		nbody = int(a[8]) if len(a) > 8 else 1
		sent = threading.Semaphore(0)
		for _ in range(conns):
			th.append(threading.Thread(target=hold, args=(t, port,
			    path, a[3], length, nbody, until, src, sent)))
	else:
		sys.exit("usage: see the header of http-load.py")
	for x in th:
		x.daemon = True
		x.start()
	if mode == "hold":
		for _ in th:
			sent.acquire()
		print("held %d" % len(th), flush=True)
	for x in th:
		x.join()
	print(json.dumps(t.d, sort_keys=True), flush=True)


if __name__ == "__main__":
	main(sys.argv[1:])
