# A stand-in for python:3.11-slim where no image registry is reachable (deploy/ci-image.sh):
# Debian bookworm's own python3.11, made from a debootstrap tarball imported with `docker import`.
# The build context holds only the machine's CA bundle, so pip inside the build trusts what the
# host trusts (a TLS-inspecting proxy, a company CA).
ARG ROOTFS
FROM ${ROOTFS}
# The official image has `python` and `pip` on the PATH; Debian names them python3 and pip3.
RUN ln -s /usr/bin/python3 /usr/local/bin/python && ln -s /usr/bin/pip3 /usr/local/bin/pip
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# Debian marks its python as externally managed (PEP 668); the image installs into it on purpose.
ENV PIP_BREAK_SYSTEM_PACKAGES=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
