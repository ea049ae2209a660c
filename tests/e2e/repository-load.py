# SPDX-License-Identifier: ISC
#
# repository-load.py: concurrent classify traffic to several models of one
# aiguardd, for tests/e2e/repository.sh (python3, threads, http.client).
#
#   repository-load.py PORT IMAGE SECONDS STOP NAME:CONNS [NAME:CONNS...]
#
# For each NAME, CONNS threads, each on one keep-alive connection, POST
# IMAGE (image/jpeg) to /v2/models/NAME/classify?top=1 one after the
# other, until the file STOP exists or SECONDS have passed, whichever
# comes first.  A connection that fails (reset, closed, timed out) is
# counted and the thread connects again.  After a non-200 answer the
# thread waits 50 ms (a 503 of a model that is restarting comes at once).
#
# Prints one JSON object: for each NAME, "sent" (requests started),
# "status" (a count per HTTP status), "errors" (connections that failed
# before a whole answer), "wrong" (200 answers whose model_name is not
# NAME, or without a model_version), "versions" (a count per
# model_version of the 200 answers), "last_version" (that of the last 200
# answer), "p50_ms" and "p99_ms" (latency of the 200 answers).
import http.client
import json
import os
import sys
import threading
import time


class Tally:
	def __init__(self, name):
		self.name = name
		self.lock = threading.Lock()
		self.sent = 0
		self.status = {}
		self.errors = 0
		self.wrong = 0
		self.versions = {}
		self.last = None
		self.last_t = 0.0
		self.lat = []

	def answer(self, code, body, t0, t1):
		with self.lock:
			k = str(code)
			self.status[k] = self.status.get(k, 0) + 1
			if code != 200:
				return
			self.lat.append(t1 - t0)
			try:
				d = json.loads(body)
				name, ver = d["model_name"], d["model_version"]
			except (ValueError, KeyError, TypeError):
				self.wrong += 1
				return
			if name != self.name or not isinstance(ver, str):
				self.wrong += 1
				return
			self.versions[ver] = self.versions.get(ver, 0) + 1
			if t1 >= self.last_t:
				self.last, self.last_t = ver, t1

	def report(self):
		lat = sorted(self.lat)

		def pct(p):
			if not lat:
				return None
			return round(lat[min(len(lat) - 1, int(p * len(lat)))] *
			    1000, 2)
		return {"sent": self.sent, "status": self.status,
		    "errors": self.errors, "wrong": self.wrong,
		    "versions": self.versions, "last_version": self.last,
		    "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def worker(t, port, body, until, stop):
	path = "/v2/models/%s/classify?top=1" % t.name
	hdr = {"Content-Type": "image/jpeg"}
	c = None
	while time.monotonic() < until and not os.path.exists(stop):
		if c is None:
			c = http.client.HTTPConnection("127.0.0.1", port,
			    timeout=30)
		with t.lock:
			t.sent += 1
		t0 = time.monotonic()
		try:
			c.request("POST", path, body, hdr)
			r = c.getresponse()
			data = r.read()
		except (OSError, http.client.HTTPException):
			with t.lock:
				t.errors += 1
			c.close()
			c = None
			time.sleep(0.01)
			continue
		t.answer(r.status, data, t0, time.monotonic())
		if r.status != 200:
			time.sleep(0.05)
		if r.getheader("Connection", "").lower() == "close":
			c.close()
			c = None
	if c is not None:
		c.close()


def main(a):
	if len(a) < 5:
		sys.exit("usage: repository-load.py PORT IMAGE SECONDS STOP "
		    "NAME:CONNS...")
	port, body = int(a[0]), open(a[1], "rb").read()
	until = time.monotonic() + float(a[2])
	stop = a[3]
	tallies, th = [], []
	for spec in a[4:]:
		name, _, n = spec.rpartition(":")
		t = Tally(name)
		tallies.append(t)
		for _ in range(int(n)):
			th.append(threading.Thread(target=worker, args=(t, port,
			    body, until, stop), daemon=True))
	for x in th:
		x.start()
	for x in th:
		x.join()
	print(json.dumps({t.name: t.report() for t in tallies},
	    sort_keys=True), flush=True)


if __name__ == "__main__":
	main(sys.argv[1:])
