"""Lesson 08's web server: its page at /, a drawing read at POST /predict, on this machine only.

    import page_server

    page_server.serve(read_drawing, port=0, open_browser=True, model="models/mnist_dense.keras")

read_drawing(png) takes the canvas as PNG bytes and gives what the page shows, a dict (see
08_draw_a_digit.py); a ValueError it raises is the client's fault, answered 400. Given an
examples_folder, POST /example?digit=7 saves the canvas there as an example of a 7, in 7/ under
a name the server makes (lesson 09 learns from them). serve() runs until Ctrl-C (in a notebook:
interrupting the cell), then closes.

Python's own http.server, a thread a connection. Any web site you visit can make your browser
send requests to a server on your machine, so it is as careful as Jupyter's:
- one Host header that names it (against DNS rebinding), no POST from another site's Origin or
  not image/png;
- sizes checked before reading or decoding: a body over 2 MB, a PNG over 1,000x1,000 pixels
  (413); 1 MB of a PNG's text, one PNG decoded and prepared at a time;
- the headers within 5 s all told, a body within 5 s more a 500 KB (408); 64 connections at
  once, a new one taking the place of the one that has waited longest for its headers (503
  when none is);
- every refusal a JSON error and one log line, never a traceback.
The page it serves loads nothing from anywhere else (data/draw_a_digit.html).
"""

import html
import io
import itertools
import json
import os
import re
import socket
import sys
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from PIL import Image, PngImagePlugin

PngImagePlugin.MAX_TEXT_MEMORY = PngImagePlugin.MAX_TEXT_CHUNK  # a canvas has no text: 1 MB
PAGE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "draw_a_digit.html")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LARGEST_BODY = 2 * 1024 * 1024  # bytes; a canvas of the page is about 20 KB
LARGEST_CANVAS = 1000 * 1000  # pixels
LARGEST_HEADERS = 16 * 1024  # bytes, all headers together
IDLE_SECONDS = 5  # a connection that sends nothing this long is closed
HEADERS_SECONDS = 5  # the request line and headers, all told: a browser sends them at once
SLOWEST_BODY = 100_000  # bytes a second: a body has 5 s more for each 500 KB (the page's: 20 KB)
MOST_CONNECTIONS = 64  # served at once; the next one takes the slot of the slowest (or 503)
# PNGs decoded and prepared at once: memory stays bounded, and on 2 cores, where the preparation
# holds Python's lock, 8 clients wait less (bench_draw.py, p95: 80-93 ms; with 2 at once, 91-118).
MOST_DECODING = 1
decoding = threading.BoundedSemaphore(MOST_DECODING)
log_lock = threading.Lock()  # one log line at a time: lines never run together


def log(line):
    with log_lock:
        print(line, flush=True)


def printable(text):
    """Text from a request, safe to log: at most 100 characters, control characters escaped."""
    return repr(text[:100])[1:-1]


def canvas_pixels(png):
    """The pixels of a PNG, read from its header before anything is decoded; ValueError when
    the bytes are no PNG image."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("the body is not a PNG image")
    try:
        with Image.open(io.BytesIO(png)) as image:
            return image.width * image.height
    except Exception:
        raise ValueError("the body is not a PNG image that Pillow can read") from None


class DigitPage(BaseHTTPRequestHandler):
    """The page, POST /predict, and one JSON error line for anything else."""

    timeout = IDLE_SECONDS  # for each read and write of the connection
    late = None  # why the connection was cut short, when it was

    def handle_one_request(self):
        """http.server's reading of one request, against a deadline for its headers."""
        self.server.watch(self, HEADERS_SECONDS, "its headers took over 5 s", in_headers=True)
        try:
            super().handle_one_request()
        finally:
            self.server.unwatch(self)

    def cut_short(self, why):
        """Stop reading this connection (the watchdog's call): what it sent is refused, 408."""
        self.late = why
        try:
            self.connection.shutdown(socket.SHUT_RD)  # a read waiting on it returns at once
        except OSError:
            pass

    def do_GET(self):
        if self.path_is_known():
            if self.route == "/":
                self.answer(200, self.server.page, "text/html; charset=utf-8")
            else:
                self.refuse(405, f"use POST for {self.route}", allow="POST")

    def do_POST(self):
        if not self.path_is_known():
            return
        if self.route == "/":
            self.refuse(405, "use GET for the page", allow="GET")
            return
        digit = None
        if self.route == "/example":
            digit = self.digit_named()
            if digit is None:
                return
        if not self.sent_by_our_page():
            return
        body = self.body()
        if body is None:
            return
        try:
            with decoding:  # at most MOST_DECODING at once, whatever arrives
                if canvas_pixels(body) > LARGEST_CANVAS:
                    self.refuse(413, "the image is larger than any canvas (1,000x1,000 pixels)")
                    return
                if digit is None:
                    reading = self.server.read_drawing(body)
                else:
                    reading = save_example(self.server.examples_folder, digit, body)
        except ValueError as err:
            self.refuse(400, str(err))
            return
        except Exception as err:  # anything else: still one JSON answer and one log line
            self.refuse(500, f"{self.route} failed: {type(err).__name__}")
            return
        self.answer(200, json.dumps(reading).encode(), "application/json")

    def digit_named(self):
        """The digit of POST /example?digit=7, 0 to 9 and nothing else; None when refused."""
        query = urlsplit(self.path).query
        found = re.fullmatch(r"digit=([0-9])", query)
        if found is None:
            self.refuse(
                400, f"name one digit, 0 to 9, as /example?digit=7, not {printable(query)!r}"
            )
            return None
        return int(found.group(1))

    def do_other(self):
        self.refuse(405, f"{self.command} is not answered here", allow="GET, POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = do_other

    def parse_request(self):
        """http.server's reading of the request line and headers, then our own checks of them:
        their size, and one Host header that names this server."""
        if not super().parse_request():
            return False
        self.server.unwatch(self)  # the headers are in
        self.route = urlsplit(self.path).path  # "/?x=1" is the page too
        size = sum(len(name) + len(value) for name, value in self.headers.items())
        hosts = self.headers.get_all("Host", [])
        port = self.server.server_address[1]
        if size > LARGEST_HEADERS:
            self.refuse(431, f"the headers are {size:,} bytes, over 16 KB")
        elif len(hosts) != 1:
            self.refuse(400, f"a request needs one Host header, not {len(hosts)}")
        elif hosts[0].lower() not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            self.refuse(403, f"Host {printable(hosts[0])!r} is not this server")
        else:
            return True
        return False

    def path_is_known(self):
        if (
            self.route in ("/", "/predict")
            or self.route == "/example"
            and self.server.examples_folder
        ):
            return True
        self.refuse(404, f"no page at {printable(self.path)}")
        return False

    def sent_by_our_page(self):
        """Only our page's POST: no other site's Origin, and a PNG, as the page sends it."""
        port = self.server.server_address[1]
        origin = self.headers.get("Origin")
        ours = (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
        if origin is not None and origin not in ours:
            self.refuse(403, f"a page from {printable(origin)} may not use this server")
            return False
        if self.headers.get("Content-Type") != "image/png":
            self.refuse(415, "send the canvas as Content-Type: image/png")
            return False
        return True

    def body(self):
        """The request's body, read once its length is known to be fine; None when refused."""
        length = self.headers.get("Content-Length")
        if length is None:
            self.refuse(411, "a POST needs a Content-Length")
            return None
        if not re.fullmatch(r"[0-9]{1,12}", length):  # ASCII digits only: int() takes others
            self.refuse(400, f"Content-Length {printable(length)!r} is not a number")
            return None
        if int(length) > LARGEST_BODY:
            self.refuse(413, f"the body is {int(length):,} bytes, over 2 MB")
            self.discard(int(length))
            return None
        seconds = HEADERS_SECONDS + int(length) / SLOWEST_BODY
        self.server.watch(self, seconds, f"its body took over {seconds:.0f} s")
        body = self.rfile.read(int(length))
        self.server.unwatch(self)
        if len(body) < int(length):
            self.close_connection = True
            why = self.late or "the client left before sending its body"
            log(f"{self.command} {printable(self.path)}: {why}")
            return None
        return body

    def discard(self, length):
        """Read and drop a refused body, up to 8 MB, so that a client that sends it all before
        it reads sees the answer; then the connection is closed."""
        left = min(length, 4 * LARGEST_BODY)
        while left > 0:
            chunk = self.rfile.read1(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)

    def answer(self, status, body, kind, **headers):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except ConnectionError:  # the client has gone: nothing to answer, nothing more to log
            self.close_connection = True

    def refuse(self, status, reason, allow=None):
        self.close_connection = True
        if self.late:  # what was read is cut short: that is the reason, not what it lacks
            status, reason = 408, self.late
            self.request_version = "HTTP/1.0"  # "GET /" cut short is no HTTP/0.9 request
        if self.command:
            request = f"{self.command} {printable(self.path)}"
        else:  # http.server could not read the request line
            request = repr(printable(self.requestline))
        log(f"{request} -> {status}: {reason}")
        headers = {"Allow": allow} if allow else {}
        self.answer(status, json.dumps({"error": reason}).encode(), "application/json", **headers)

    def send_error(self, code, message=None, explain=None):
        """http.server's own refusals (a bad request line, too long a line, an unknown method)
        answered as ours are: JSON and one log line, not its HTML page."""
        if self.request_version == "HTTP/0.9":  # no request line could be read
            self.request_version = "HTTP/1.0"
        self.refuse(code, message or self.responses.get(code, ("refused",))[0])

    def log_error(self, format, *args):
        """Quiet for a connection closed after IDLE_SECONDS of silence: a browser opens some
        ahead of time, and never uses them."""

    def log_message(self, format, *args):
        """Quiet for the requests answered; refuse() logs the others, one line each."""


class PageServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a cap on connections, a deadline for each request, and one log
    line for a broken connection."""

    request_queue_size = MOST_CONNECTIONS  # connections waiting to be accepted

    def __init__(self, address, read_drawing, page, examples_folder=None):
        super().__init__(address, DigitPage)
        self.read_drawing, self.page = read_drawing, page
        self.examples_folder = examples_folder
        self.free = threading.BoundedSemaphore(MOST_CONNECTIONS)
        self.deadlines = {}  # handler: (when, why, still in its headers)
        self.deadlines_lock = threading.Lock()
        threading.Thread(target=self.watchdog, daemon=True).start()

    def watch(self, handler, seconds, why, in_headers=False):
        with self.deadlines_lock:
            self.deadlines[handler] = (time.monotonic() + seconds, why, in_headers)

    def unwatch(self, handler):
        with self.deadlines_lock:
            self.deadlines.pop(handler, None)

    def watchdog(self):
        """Four times a second: each connection past its deadline is cut short."""
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self.deadlines_lock:
                late = [(h, why) for h, (when, why, _) in self.deadlines.items() if when < now]
            for handler, why in late:
                self.unwatch(handler)
                handler.cut_short(why)

    def make_room(self):
        """Cut short the connection that has waited longest for its headers, if any."""
        with self.deadlines_lock:
            waiting = [(when, h) for h, (when, _, headers) in self.deadlines.items() if headers]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda pair: pair[0])[1]
        self.unwatch(oldest)
        oldest.cut_short(f"closed for a new connection: over {MOST_CONNECTIONS} at once")
        return True

    def process_request(self, request, client_address):
        if self.free.acquire(blocking=False) or (self.make_room() and self.free.acquire(timeout=1)):
            super().process_request(request, client_address)
            return
        log(f"{client_address[0]}: over {MOST_CONNECTIONS} connections at once -> 503")
        reason = json.dumps({"error": "too many connections at once; try again"}).encode()
        head = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(reason)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        try:
            request.setblocking(False)
            request.recv(65536)  # what the client sent already, so that closing is no reset
        except OSError:
            pass
        try:
            request.settimeout(1)
            request.sendall(head.encode() + reason)
        except OSError:
            pass
        self.shutdown_request(request)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.free.release()

    def handle_error(self, request, client_address):
        """A connection that broke (a client gone mid-request): one line, no traceback."""
        error = sys.exc_info()[1]
        why = printable(str(error))  # one line, even for an error of several
        log(f"{client_address[0]}: connection dropped ({type(error).__name__}: {why})")


def save_example(folder, digit, png):
    """Save a canvas as an example of `digit`: folder/DIGIT/ under a new name made here, as a grey
    PNG; what the page shows. ValueError when it is no PNG image, or an empty canvas."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            grey = image.convert("L") if image.format == "PNG" else None
    except Exception:
        grey = None
    if grey is None:
        raise ValueError("the body is not a PNG image that Pillow can read")
    darkest, lightest = grey.getextrema()
    if darkest == lightest:
        raise ValueError("the canvas is empty: draw the digit first")
    place = os.path.join(folder, str(digit))
    os.makedirs(place, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for number in itertools.count(1):
        name = os.path.join(place, f"{stamp}-{number}.png")
        try:
            with open(name, "xb") as file:  # a new file, never one that is there
                grey.save(file, "PNG")
            break
        except FileExistsError:
            continue
    saved = os.path.relpath(name, os.path.dirname(os.path.abspath(folder)))
    log(f"Saved {saved}: an example of {digit}")
    count = sum(entry.endswith(".png") for entry in os.listdir(place))
    return {"saved": saved, "digit": digit, "examples": count}


def page_naming(model):
    """The page, naming the model that answers where it says <!-- MODEL -->."""
    with open(PAGE_FILE, encoding="utf-8") as file:
        page = file.read()
    return page.replace("<!-- MODEL -->", html.escape(model)).encode()


def serve(
    read_drawing, port=0, open_browser=True, model="the lesson's model", examples_folder=None
):
    """Serve the page on 127.0.0.1 (on a free port unless `port` names one) until Ctrl-C; print
    its address, and open it in a browser unless told not to. With examples_folder, the page can
    save a drawing there as an example of its digit."""
    page = page_naming(model)
    try:
        server = PageServer(("127.0.0.1", port), read_drawing, page, examples_folder)
    except OSError as err:
        raise SystemExit(f"Cannot listen on 127.0.0.1:{port}: {err.strerror}") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"Open {url}", flush=True)
    print("Stop with Ctrl-C. / 按 Ctrl-C 停止。", flush=True)
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped: the server is closed. / 已停止，服务器已关闭。")
    finally:
        server.server_close()
