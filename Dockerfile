# Builds the one roster binary into a small image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /roster ./cmd/roster

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /roster /roster
EXPOSE 8080
ENTRYPOINT ["/roster"]
CMD ["serve"]
