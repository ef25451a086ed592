FROM postgres:16.4-bookworm
# ruleid: dockerfile-secret-in-env
ENV POSTGRES_PASSWORD=supersecret
# ruleid: dockerfile-secret-in-env
ENV LANG=C.UTF-8 GITHUB_TOKEN="ghp_0123456789abcdefghijklmnopqrstuvwxyz"
# ruleid: dockerfile-secret-in-env
ENV AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
# ruleid: dockerfile-secret-in-env
ARG NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789
# ok: dockerfile-secret-in-env
ENV POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password
# ok: dockerfile-secret-in-env
ENV JWT_SECRET=${JWT_SECRET}
# ok: dockerfile-secret-in-env
ARG NPM_TOKEN
# ok: dockerfile-secret-in-env
ENV TOKEN_TTL=3600 GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D
# ok: dockerfile-secret-in-env
ENV API_KEY=""
# ok: dockerfile-secret-in-env
RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci
