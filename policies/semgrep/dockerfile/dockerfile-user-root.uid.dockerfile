FROM alpine:3.20
RUN adduser -D -u 10001 app
# ok: dockerfile-user-root
USER app
# ruleid: dockerfile-user-root
USER 0:0
CMD ["sh"]
# USER app
# ok: dockerfile-user-root
RUN echo "USER root"
