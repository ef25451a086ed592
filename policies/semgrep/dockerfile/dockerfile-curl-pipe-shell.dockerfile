FROM debian:bookworm-slim
# ruleid: dockerfile-curl-pipe-shell
RUN curl -fsSL https://get.example.com/install.sh | sh
# ruleid: dockerfile-curl-pipe-shell
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && wget -qO- "https://example.com/setup?channel=stable&arch=amd64" | sudo -E bash -s -- --yes
# ruleid: dockerfile-curl-pipe-shell
run curl -sSL https://example.com/x.sh | /bin/bash
# ok: dockerfile-curl-pipe-shell
RUN curl -fsSLo /tmp/install.sh https://get.example.com/install.sh \
    && echo "24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d  /tmp/install.sh" | sha256sum -c - \
    && sh /tmp/install.sh
# ok: dockerfile-curl-pipe-shell
RUN curl -fsSL https://example.com/archive.tar.gz | tar -xz -C /opt
# ok: dockerfile-curl-pipe-shell
RUN curl -fsSL https://example.com/key.asc | gpg --dearmor -o /usr/share/keyrings/example.gpg
# ruleid: dockerfile-curl-pipe-shell
RUN <<EOT
set -eu
curl -fsSL https://get.example.com/install.sh | sh -s -- --prefix /opt
EOT
# ok: dockerfile-curl-pipe-shell
RUN <<EOT
set -eu
curl -fsSLo /tmp/install.sh https://get.example.com/install.sh
EOT
# ok: dockerfile-curl-pipe-shell
RUN echo done | sh
