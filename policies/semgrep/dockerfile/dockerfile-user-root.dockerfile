FROM golang:1.22-bookworm AS build
# ok: dockerfile-user-root
USER root
RUN go build -o /out/app ./cmd/app

FROM debian:bookworm-slim AS tools
# ok: dockerfile-user-root
USER root
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates
# ok: dockerfile-user-root
USER 10001

FROM debian:bookworm-slim
COPY --from=build /out/app /usr/local/bin/app
# ruleid: dockerfile-user-root
USER root
ENTRYPOINT ["/usr/local/bin/app"]
