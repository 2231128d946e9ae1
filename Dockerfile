# The image manifests/deployment.yaml runs. Not built on the development machines (no container
# engine there); `swift build -c release` of the same sources is what the benchmarks measure.
FROM swift:6.2-bookworm AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product locus --static-swift-stdlib

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/locus /usr/local/bin/locus
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/locus"]
