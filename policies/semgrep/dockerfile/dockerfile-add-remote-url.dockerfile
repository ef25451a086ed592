FROM debian:bookworm-slim
# ruleid: dockerfile-add-remote-url
ADD https://github.com/example/tool/releases/download/v1.2.3/tool-linux-amd64.tar.gz /opt/
# ruleid: dockerfile-add-remote-url
ADD --chown=10001:10001 http://downloads.example.com/agent.jar /opt/agent/agent.jar
# ruleid: dockerfile-add-remote-url
add ["https://example.com/config.tgz", "/etc/app/"]
# ok: dockerfile-add-remote-url
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://github.com/example/tool/releases/download/v1.2.3/tool.tar.gz /opt/
# ok: dockerfile-add-remote-url
ADD vendor/tool.tar.gz /opt/
# ok: dockerfile-add-remote-url
COPY --from=registry.example.com/tools:1.2 /bin/tool /usr/local/bin/tool
# ok: dockerfile-add-remote-url
RUN echo "see https://example.com for docs"
