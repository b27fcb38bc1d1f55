# ScanGate container image: build the slim production jar (no embedded PostgreSQL/Redis binaries:
# those are for start-dev), run it on a JRE as a non-root user.
#   docker build -t scangate .
#   docker run -p 8080:8080 -v $PWD/conf/scangate.yaml:/etc/scangate/scangate.yaml:ro --env-file scangate.env scangate
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -q -B dependency:go-offline
COPY src src
COPY conf conf
RUN mvn -q -B -DskipTests package

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /app scangate
WORKDIR /app
COPY --from=build /src/target/scangate-slim.jar /app/scangate.jar
COPY conf/scangate.yaml /etc/scangate/scangate.yaml
USER 10001
EXPOSE 8080
# Containers count memory against the cgroup limit: let the heap use most of it. ZGC: its pauses
# stay under a millisecond, where G1's young pauses of 20-60 ms (thousands of open streams on two
# cores) were most of the p99 scan-to-browser latency (docs/performance.md, issue 13).
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:+UseZGC"
HEALTHCHECK --interval=10s --timeout=3s CMD ["sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["java", "-jar", "/app/scangate.jar"]
CMD ["start", "--config", "/etc/scangate/scangate.yaml"]
