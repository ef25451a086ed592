FROM node:20.17-bookworm-slim
# ruleid: dockerfile-tls-verify-disabled
RUN curl -fsSLk https://internal.example.com/ca-tools.tgz -o /tmp/tools.tgz
# ruleid: dockerfile-tls-verify-disabled
RUN apt-get update && wget --no-check-certificate -O /tmp/agent.deb https://downloads.example.com/agent.deb
# ruleid: dockerfile-tls-verify-disabled
RUN pip install --no-cache-dir --trusted-host pypi.internal.example.com -r requirements.txt
# ruleid: dockerfile-tls-verify-disabled
RUN npm config set strict-ssl false && npm ci
# ruleid: dockerfile-tls-verify-disabled
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
# ruleid: dockerfile-tls-verify-disabled
RUN git -c http.sslVerify=false clone https://git.example.com/team/repo.git /src
# ok: dockerfile-tls-verify-disabled
RUN curl -fsSL --cacert /etc/ssl/certs/internal-ca.pem https://internal.example.com/tools.tgz -o /tmp/tools.tgz
# ok: dockerfile-tls-verify-disabled
RUN curl -fsSL -o /tmp/kubectl https://dl.k8s.io/release/v1.31.0/bin/linux/amd64/kubectl && chmod +x /tmp/kubectl
# ok: dockerfile-tls-verify-disabled
# RUN curl -k https://old.example.com/install.sh
# ok: dockerfile-tls-verify-disabled
ENV NODE_TLS_REJECT_UNAUTHORIZED=1 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/internal-ca.pem
# ok: dockerfile-tls-verify-disabled
RUN wget -k -O /tmp/page.html https://example.com/
