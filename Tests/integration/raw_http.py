"""Requests written byte by byte on a plain socket, for what HTTP clients will not send: a body
cut short, a half-closed connection, a head without its body."""
import socket


def answered(data):
    """True once `data` holds a whole response (head and its Content-Length of body)."""
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    return len(body) >= int(lengths[0]) if lengths else False


def exchange(port, request, half_close=True, timeout=10):
    """Sends `request`, optionally closes the sending side (the body stops there), and returns
    (status, body) of the answer, or (None, b"") if none came within `timeout` seconds."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(timeout)
        data = b""
        while not answered(data):
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, body
