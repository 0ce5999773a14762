"""Pictures of the running site, made from the site itself so that the README's stay current.

    .venv/bin/python scripts/screenshots.py                 # docs/img/live.png, docs/img/timeline.png and
                                                            # the home page's static/img/example.jpg
    .venv/bin/python scripts/screenshots.py --walk DIR      # also every page a newcomer meets, 1280 and 375 px

It starts a site of its own (a temporary SQLite database and media folder, a Celery worker and daphne on
a free port, its own queue and channel prefix on the Redis at REDIS_URL), makes a demo account, uploads
the shared clip and photos, and drives Debian's Chromium with the shared clip as its camera. Nothing it
makes outlives the run except the pictures. Needs what `scripts/test.sh` installs (chromium, ffmpeg).
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))          # run as a script: the engine is imported from the checkout
SHARED = Path(os.environ.get("FER_SHARED_DIR", ROOT.parent / "shared"))
MEDIA = SHARED / "media"
CLIP, PAIR, GROUP = MEDIA / "short_hamilton_clip.mp4", MEDIA / "two_people.jpg", MEDIA / "obama_and_biden.jpg"
PORTRAITS = [MEDIA / n for n in ("biden.jpg", "obama.jpg", "lin-manuel-miranda.png")]
USER, PASSWORD = "demo", "demo-password-for-pictures"
WIDE, PHONE = {"width": 1280, "height": 800}, {"width": 375, "height": 812}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """daphne and one Celery worker on a throwaway database, stopped on exit."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tag = f"fer-pictures-{os.getpid()}"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fersite.settings", "PYTHONUNBUFFERED": "1",
                    "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "MEDIA_ROOT": str(tmp / "media"),
                    "FER_UPLOAD_TEMP_DIR": str(tmp / "upload-tmp"), "FER_CELERY_QUEUE": tag,
                    "FER_CHANNEL_PREFIX": tag}
        self.logs, self.procs = tmp, []

    def manage(self, *args: str, stdin: str = "") -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, input=stdin, text=True,
                       check=True, stdout=subprocess.DEVNULL)

    def start(self) -> "Site":
        self.manage("migrate", "--noinput")
        self.manage("shell", stdin="from django.contrib.auth.models import User\n"
                    f"User.objects.create_user({USER!r}, password={PASSWORD!r})\n")
        for name, cmd in (("worker", ["-m", "celery", "-A", "fersite", "worker", "-c", "1", "-l", "WARNING"]),
                          ("daphne", ["-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "fersite.asgi:application"])):
            log = open(self.logs / f"{name}.log", "w")
            self.procs.append(subprocess.Popen([sys.executable, *cmd], cwd=ROOT, env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"daphne did not listen within 90 s: see {self.logs / 'daphne.log'}")

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def camera_file(tmp: Path) -> Path:
    """The shared clip as Y4M, which Chromium's fake camera plays in a loop."""
    out = tmp / "camera.y4m"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(CLIP), "-t", "8", "-vf", "scale=640:-2",
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def sign_in(page, site: Site) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_load_state()


def upload(page, site: Site, path: Path) -> str:
    """Upload one file on the analyses page; the address of its page once the worker is done."""
    from playwright.sync_api import expect

    page.goto(f"{site.url}/analyses/")
    page.set_input_files("#files", str(path))
    page.click("#upload-button")
    page.wait_for_url("**/analyses/*/", timeout=120_000)
    expect(page.locator("#status")).to_have_text("done", timeout=300_000)
    return page.url


def shoot(page, out: Path, name: str, sizes=(WIDE,), full_page: bool = True) -> None:
    for size in sizes:
        page.set_viewport_size(size)
        suffix = "" if size is WIDE else "-phone"
        page.screenshot(path=str(out / f"{name}{suffix}.png"), full_page=full_page)


def live_picture(browser_page, site: Site, path: Path, phone: bool = False) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{site.url}/live/")
    page.click("#live-start")
    expect(page.locator("#stat-results")).not_to_have_text("0", timeout=60_000)
    page.wait_for_timeout(9000)   # some seconds of chart, for the picture only (nothing is asserted)
    page.screenshot(path=str(path), full_page=not phone)


def home_example(out: Path, width: int = 900) -> None:
    """The home page's example: a public-domain photo read by the shipped model, drawn as uploads are."""
    from emotion.ml import load_engine
    from emotion.ml.annotate import draw_faces
    from emotion.ml.media import read_image
    import cv2  # noqa: I001 - after emotion.ml, which sets OpenCV's image limit

    img = read_image(GROUP)
    drawn = draw_faces(img, load_engine().analyze_image(img))
    small = cv2.resize(drawn, (width, round(drawn.shape[0] * width / drawn.shape[1])), interpolation=cv2.INTER_AREA)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), small, [cv2.IMWRITE_JPEG_QUALITY, 85])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="where the README's pictures go")
    ap.add_argument("--walk", type=Path, help="also photograph every page a newcomer meets, into this folder")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    home_example(ROOT / "static" / "img" / "example.jpg")
    with tempfile.TemporaryDirectory(prefix="fer-pictures-") as tmp_name:
        tmp = Path(tmp_name)
        site = Site(tmp).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-video-capture={camera_file(tmp)}"])
                page = browser.new_page(viewport=WIDE)
                sign_in(page, site)
                timeline = upload(page, site, CLIP)
                page.goto(timeline)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / "timeline.png"), full_page=False)
                live_picture(page, site, args.out / "live.png")
                if args.walk:
                    walk(page, site, timeline, args.walk)
                browser.close()
        finally:
            site.stop()
    print(f"pictures in {args.out}" + (f" and {args.walk}" if args.walk else ""))


def walk(page, site: Site, timeline: str, out: Path) -> None:
    """The pages a newcomer meets, wide and on a phone, to look at after a change."""
    from playwright.sync_api import expect

    out.mkdir(parents=True, exist_ok=True)
    both = (WIDE, PHONE)
    for name, address in (("home", "/"), ("analyses", "/analyses/"), ("studies", "/analyses/studies/"),
                          ("api-docs", "/api/docs/"), ("your-data", "/account/data/")):
        page.goto(f"{site.url}{address}")
        page.wait_for_load_state("networkidle")
        shoot(page, out, name, both)
    page.goto(timeline)
    page.wait_for_load_state("networkidle")
    shoot(page, out, "timeline", both)
    for photo in (*PORTRAITS, PAIR):
        page.set_viewport_size(WIDE)
        page.goto(upload(page, site, photo))
        page.wait_for_load_state("networkidle")
        shoot(page, out, photo.stem, both)
    page.set_viewport_size(PHONE)
    live_picture(page, site, out / "live-phone.png", phone=True)
    page.click("#live-stop")
    page.check("#live-store")
    page.screenshot(path=str(out / "live-phone-store.png"))
    page.click("#live-start")
    expect(page.locator("#live-stop")).to_be_enabled()
    page.wait_for_timeout(2000)
    page.click("#live-stop")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(out / "live-phone-stopped.png"))


if __name__ == "__main__":
    main()
