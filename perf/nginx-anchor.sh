# Sourced by the perf scripts: nginx with one worker as the anchor (or receiver) of a benchmark.
#
# start_nginx DIR PORT 'LOCATION-BODY' starts it in the background on 127.0.0.1:PORT with its
# files under DIR/nginx and sets NGINX_PID; LOCATION-BODY is the `location /` block's contents.
start_nginx() {
  local dir=$1/nginx port=$2 location=$3
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { $location }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  NGINX_PID=$!
}
