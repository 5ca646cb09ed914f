"""nginx `proxy_pass` in front of todo-service: the reference a proxy hop is compared with."""

from pathlib import Path

from support.processes import ServiceProcess, free_port

CONFIG = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream todo_service {{
        server {upstream};
        keepalive 32;  # kept-alive upstream connections, as faas keeps its pool
    }}
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            proxy_pass http://todo_service/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Prefix /api;
        }}
    }}
}}
"""


def start_nginx(tmp_dir: Path, upstream: str) -> tuple[ServiceProcess, str]:
    """A foreground nginx proxying /api/ to `upstream` (host:port); the process and its URL."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = tmp_dir / "nginx.conf"
    config.write_text(CONFIG.format(tmp=tmp_dir, upstream=upstream, port=port))
    process = ServiceProcess(
        ["nginx", "-p", str(tmp_dir), "-e", str(tmp_dir / "error.log"), "-c", str(config)],
        cwd=tmp_dir,
        log_path=tmp_dir / "nginx.log",
    ).start()
    url = f"http://127.0.0.1:{port}"
    process.wait_http(f"{url}/api/healthz", timeout=10)
    return process, url
