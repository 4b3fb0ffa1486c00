#!/usr/bin/env python3
"""Opens report.html in headless Chromium at desktop and phone widths and checks that it works
offline: no console error, no exception, no CSP violation, no request but the file itself; the
tables sort on a click; every figure is laid out and its pixels in a screenshot are not blank;
the page needs no horizontal scrolling (wide tables scroll inside their own box).

    check_report_html.py REPORT.html [SCREENSHOT_DIR]

Drives Chromium over the DevTools protocol on --remote-debugging-pipe (fds 3/4, NUL-separated
JSON), so it needs only the Python standard library. Exit 77 (skipped) when chromium is absent.
Screenshots (full page, one per width) go to SCREENSHOT_DIR when given.
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

WIDTHS = [("desktop", 1280, 800, False), ("phone", 390, 844, True)]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Browser:
    def __init__(self, exe, profile):
        # Chromium reads commands from fd 3 and writes replies to fd 4.
        self.to_r, self.to_w = os.pipe()
        self.from_r, self.from_w = os.pipe()
        os.set_inheritable(self.to_r, True)
        os.set_inheritable(self.from_w, True)
        args = [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--user-data-dir=" + profile, "about:blank"]
        def fds():  # via fresh descriptors, so that neither target overwrites the other's source
            r, w = os.dup(self.to_r), os.dup(self.from_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
        self.proc = subprocess.Popen(args, preexec_fn=fds,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False)
        os.close(self.to_r)
        os.close(self.from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self.from_r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe (exit %s)" % self.proc.poll())
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, timeout=30):
        deadline = time.time() + timeout
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def png_pixels(data):
    """Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes): (w, h, rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def ink_share(png):
    """Share of pixels that are not near-white: a blank (or unrendered) figure is ~0."""
    w, h, bpp, rows = png_pixels(png)
    dark = 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            if row[x] < 200 or row[x + 1] < 200 or row[x + 2] < 200:
                dark += 1
    return dark / float(w * h), len({row[x:x + 3] for row in rows[::4] for x in range(0, w * bpp, bpp * 4)})


SORT_JS = r"""
(function(){
  var t=document.getElementById('summary-table');
  var th=t.tHead.rows[0].cells[3];            // Mean NLL
  function col(){return Array.prototype.map.call(t.tBodies[0].rows,function(r){
    var v=r.cells[3].getAttribute('data-v');return v===''?null:parseFloat(v);});}
  var before=col();
  th.click(); var asc=col();
  th.click(); var desc=col();
  function sorted(a,dir){for(var i=1;i<a.length;i++){if(a[i]===null)continue;if(a[i-1]===null)return false;
    if(dir*(a[i]-a[i-1])<0)return false;}return true;}
  var ids=Array.prototype.map.call(t.tBodies[0].rows,function(r){return r.cells[0].textContent;});
  return JSON.stringify({n:asc.length,asc:sorted(asc,1),desc:sorted(desc,-1),
    changed:JSON.stringify(asc)!==JSON.stringify(desc),firstId:ids[0],aria:th.getAttribute('aria-sort')});
})()
"""

FIGS_JS = r"""
JSON.stringify(Array.prototype.map.call(document.querySelectorAll('.figure svg'),function(s){
  var r=s.getBoundingClientRect();
  return {x:r.left+window.scrollX,y:r.top+window.scrollY,w:r.width,h:r.height,
          label:s.getAttribute('aria-label')||'figure'};}))
"""

LAYOUT_JS = r"""
JSON.stringify({scrollWidth:document.documentElement.scrollWidth,innerWidth:window.innerWidth,
  tables:document.querySelectorAll('table.sortable').length,
  height:document.documentElement.scrollHeight})
"""


def check_width(b, url, name, width, height, mobile, shots, failures):
    target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    b.events.clear()
    for domain in ("Page", "Runtime", "Log", "Network"):
        b.call(domain + ".enable", session=session)
    b.call("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}, session=session)
    b.call("Page.navigate", {"url": url}, session=session)
    b.wait_event("Page.loadEventFired")
    time.sleep(0.3)  # let late console messages arrive

    def ev(expr):
        r = b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=session)
        if "exceptionDetails" in r:
            failures.append("%s: script failed: %s" % (name, r["exceptionDetails"]))
            return None
        return json.loads(r["result"]["value"])

    layout = ev(LAYOUT_JS)
    figs = ev(FIGS_JS)
    sort = ev(SORT_JS)
    b.call("Runtime.evaluate", {"expression": "1"}, session=session)  # flush events
    for e in b.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            failures.append("%s: console.%s: %s" % (name, p["type"], p.get("args")))
        elif m == "Runtime.exceptionThrown":
            failures.append("%s: exception: %s" % (name, p.get("exceptionDetails", {}).get("text")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            failures.append("%s: log error: %s" % (name, p["entry"].get("text")))
        elif m == "Network.requestWillBeSent":
            req = p.get("request", {}).get("url", "")
            if req != url and not req.startswith("data:"):
                failures.append("%s: network request: %s" % (name, req))
        elif m == "Network.loadingFailed" and p.get("blockedReason"):
            failures.append("%s: blocked request: %s" % (name, p.get("blockedReason")))
    if layout is None or figs is None or sort is None:
        return
    print("%s (%d px): %d tables, %d figures, page %d px tall; sort: %s" %
          (name, width, layout["tables"], len(figs), layout["height"], sort))
    if layout["scrollWidth"] > layout["innerWidth"] + 1:
        failures.append("%s: page is %d px wide in a %d px window (horizontal scrolling)" %
                        (name, layout["scrollWidth"], layout["innerWidth"]))
    if not (sort["n"] >= 2 and sort["asc"] and sort["desc"] and sort["changed"] and sort["aria"] == "descending"):
        failures.append("%s: the summary table does not sort on a click: %s" % (name, sort))
    if not figs:
        failures.append("%s: no figures" % name)
    for f in figs:
        if f["w"] < 100 or f["h"] < 60 or f["w"] > width + 1:
            failures.append("%s: figure %s laid out at %.0f x %.0f" % (name, f["label"], f["w"], f["h"]))
            continue
        shot = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                  "clip": {"x": f["x"], "y": f["y"], "width": f["w"],
                                                           "height": f["h"], "scale": 1}}, session=session)
        ink, colours = ink_share(base64.b64decode(shot["data"]))
        if ink < 0.01 or colours < 3:
            failures.append("%s: figure %s looks blank (%.4f of pixels inked, %d colours)" %
                            (name, f["label"], ink, colours))
    if shots:
        full = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                  "clip": {"x": 0, "y": 0, "width": width,
                                                           "height": min(layout["height"], 16000), "scale": 1}},
                      session=session)
        path = os.path.join(shots, "report-%s-%dpx.png" % (name, width))
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(full["data"]))
        print("screenshot:", path)
    b.call("Target.closeTarget", {"targetId": target})


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    exe = find_chromium()
    if not exe:
        print("SKIP: chromium is not installed (apt-get install chromium)")
        return 77
    report = os.path.abspath(sys.argv[1])
    shots = sys.argv[2] if len(sys.argv) > 2 else None
    if shots:
        os.makedirs(shots, exist_ok=True)
    url = "file://" + report
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(exe, profile)
        try:
            for name, w, h, mobile in WIDTHS:
                check_width(b, url, name, w, h, mobile, shots, failures)
        finally:
            b.close()
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
