# syntax=docker/dockerfile:1
# Build: docker build -t hush .
# Run:   docker run -p 8080:8080 -v hush-data:/data -e HUSH_ADMIN_TOKEN=change-me hush
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hush ./cmd/hush \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/hush /hush
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HUSH_DATA=/data HUSH_LISTEN=:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/hush"]
CMD ["serve"]
