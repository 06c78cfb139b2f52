"""A GStreamer RTSP server for tests: serves a moving test pattern or an H.264 MP4 at rtsp://127.0.0.1:PORT/cam.

Prints "READY <port>" once listening. Run with Debian's /usr/bin/python3 (it has gi).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def launch_line(args):
    if args.file:
        # Every client gets its own pipeline from the start of the clip (a clip has no loop here).
        return (
            f'( filesrc location="{args.file}" ! qtdemux ! h264parse ! '
            "rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
    return (
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1 ! "
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps} ! "
        "rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--file")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=10)
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args))
    factory.set_shared(not args.file)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print("FAILED to bind", flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
