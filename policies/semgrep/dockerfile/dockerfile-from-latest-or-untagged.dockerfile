# ruleid: dockerfile-from-latest-or-untagged
FROM golang:latest AS build
RUN go build -o /out/app ./cmd/app

# ok: dockerfile-from-latest-or-untagged
FROM build AS test
RUN go test ./...

# ruleid: dockerfile-from-latest-or-untagged
FROM --platform=linux/amd64 registry.example.com:5000/tools/linter AS lint

# ok: dockerfile-from-latest-or-untagged
FROM python:3.12-slim-bookworm AS deps

# ok: dockerfile-from-latest-or-untagged
FROM registry.example.com:5000/base/runtime:2.4 AS runtime

# ok: dockerfile-from-latest-or-untagged
FROM registry.example.com:5000/base/runtime:2.4@sha256:0d4f3c5e1c1b8e1b1f0e5f2e6b3f9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29

# ok: dockerfile-from-latest-or-untagged
FROM ghcr.io/example/base:latest@sha256:0d4f3c5e1c1b8e1b1f0e5f2e6b3f9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29

ARG BASE=debian:bookworm-slim
# ok: dockerfile-from-latest-or-untagged
FROM ${BASE} AS final-base

# ruleid: dockerfile-from-latest-or-untagged
FROM ghcr.io/example/tools

# ok: dockerfile-from-latest-or-untagged
FROM build AS second-use-of-build

# ruleid: dockerfile-from-latest-or-untagged
from nginx
# ok: dockerfile-from-latest-or-untagged
FROM scratch
COPY --from=build /out/app /app
