# The image manifests/deployment.yaml runs, for builders with a registry. scripts/build-image makes
# the same image without one (the layout the tests run: same binary, user, entrypoint and paths).
FROM swift:6.2-bookworm AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product locus --static-swift-stdlib \
 && strip --strip-all -o /locus "$(swift build -c release --static-swift-stdlib --show-bin-path)/locus"

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /locus /usr/local/bin/locus
EXPOSE 8443
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/locus"]
