# livebuild: `make iso` builds the default profile's image, `make check` runs every test tier.
# Both install what they need on Debian first (apt-get; sudo when not root).

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
PROFILE ?= profiles/cluster.json

# Debian packages livebuild needs to build images (libraries, mmdebstrap, bootloaders, xorriso;
# libguestfs for disk images, with a kernel for its appliance: supermin boots the host's) and to
# test them (QEMU with its firmware, reference readers for squashfs, cpio and ISO).
BUILD_DEPS := libarchive-dev libsquashfs-dev liblzo2-dev pkg-config mmdebstrap debian-archive-keyring \
	xorriso isolinux syslinux-common pxelinux grub-efi-amd64-bin grub-pc-bin grub-common mtools dosfstools \
	zstd xz-utils ca-certificates libguestfs-dev linux-image-amd64
# What `livebuild run` and `livebuild cluster` need at run time (QEMU, firmware, and for the
# virtual cluster iproute2 and dnsmasq-base: the DHCP server without the host service that
# Debian's `dnsmasq` package would start).
RUN_DEPS := qemu-system-x86 ovmf iproute2 dnsmasq-base
TEST_DEPS := $(RUN_DEPS) qemu-utils ipxe-qemu squashfs-tools-ng squashfs-tools \
	libarchive-tools cpio busybox-static python3 attr

.PHONY: all swift build release agent iso cluster check unit interop loopback vm deps build-deps run-deps test-deps bench fuzz clean

all: build

# One apt-get run for everything the build and the tests need (`deps`), or only the build's.
deps: swift
	@dpkg -s $(BUILD_DEPS) $(TEST_DEPS) >/dev/null 2>&1 || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $(BUILD_DEPS) $(TEST_DEPS); }

swift:
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6.1 or newer is needed: install a swift.org toolchain (Debian's swiftlang 6.0 is too old) and put swift on PATH" >&2; exit 1; }

build-deps: swift
	@dpkg -s $(BUILD_DEPS) >/dev/null 2>&1 || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $(BUILD_DEPS); }

run-deps:
	@dpkg -s $(RUN_DEPS) >/dev/null 2>&1 || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $(RUN_DEPS); }

test-deps: deps

build: build-deps
	$(SWIFT) build

release: build-deps
	$(SWIFT) build -c release

# The node runtime (clusterd, cluster) that images with a `cluster` section carry: release,
# Swift runtime linked statically (images have no Swift runtime), stripped. Its own scratch
# directory, so it never invalidates the debug build; livebuild finds it in .build-agent/release.
# It links none of the system libraries, so it needs no Debian package and builds while apt-get
# installs them (`make check`).
AGENT_BUILD := $(SWIFT) build -c release --static-swift-stdlib -Xlinker --strip-all --scratch-path .build-agent
agent: swift
	$(AGENT_BUILD) --product clusterd
	$(AGENT_BUILD) --product cluster

# Build the default profile's image into out/NAME (needs root for mmdebstrap's root mode).
iso: release agent
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild make $(PROFILE)

# Build the profile and boot NODES nodes of it on a private network (Docs/virtual-cluster.md);
# then `livebuild cluster exec node1 -- CMD`, and `livebuild cluster down` to stop them.
NODES ?= 3
cluster: release agent run-deps
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild cluster up $(PROFILE) --nodes $(NODES)

# The whole test suite: unit, interop and loopback tiers in parallel, then the VM tier one test at
# a time (VM tests boot QEMU under TCG or KVM; the balancing test times a makespan, which other
# VMs sharing the host's cores would distort). The packages install while the agent builds.
# Both test processes run the same build, so the VM tier reuses the image fixtures the first
# one built (LIVEBUILD_FIXTURE_RUN, Tests/TestSupport/Fixtures.swift).
check: export LIVEBUILD_FIXTURE_RUN := check-$(shell date +%s)-$(shell echo $$$$)
check:
	$(MAKE) -j2 deps agent
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip VMTests
	$(SWIFT) test --skip-build --filter VMTests --no-parallel

unit: build-deps
	$(SWIFT) test --filter UnitTests

interop: deps agent
	$(SWIFT) test --filter InteropTests

loopback: build-deps
	$(SWIFT) test --filter LoopbackTests

vm: deps agent
	$(SWIFT) test --filter VMTests --no-parallel

# Benchmarks (Docs/benchmarks.md): membership beside memberlist (loopback, then 3 QEMU nodes),
# migration beside plain criu (2 QEMU nodes), network boot (1, 4, 8 diskless nodes), power-on to
# login phase by phase (four boot modes), the build
# beside Debian live-build, the disk image stage beside the ISO stage, then the squashfs stage
# beside tar2sqfs on the cached base the build leaves behind. Slow: an hour.
bench: deps agent
	@dpkg -s live-build golang-go golang-github-hashicorp-memberlist-dev >/dev/null 2>&1 || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends live-build golang-go golang-github-hashicorp-memberlist-dev; }
	$(SWIFT) build -c release
	cd Tests/Reference/memberlist && GOPATH=/usr/share/gocode GO111MODULE=off GOPROXY=off go build -o $(CURDIR)/.build/memberlist-reference .
	for n in 3 20 100; do $$($(SWIFT) build -c release --show-bin-path)/livebuild bench membership --agents $$n --reference .build/memberlist-reference; done
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild make $(PROFILE) --output out/bench-cluster >/dev/null
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild bench membership --vms 3 --image out/bench-cluster/cluster.iso
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild bench migration --image out/bench-cluster/cluster.iso
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild bench pxe --image out/bench-cluster/cluster.iso
	$$($(SWIFT) build -c release --show-bin-path)/livebuild bench boot out/bench-cluster/cluster.iso
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild bench build $(PROFILE) --live-build
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild bench disk $(PROFILE)
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild make $(PROFILE) --output out/bench-base >/dev/null
	$(SUDO) $$($(SWIFT) build -c release --show-bin-path)/livebuild bench squashfs $$(ls -t $${LIVEBUILD_CACHE:-$$HOME/.cache/livebuild}/base/*.tar | head -1) --runs 3

# Fuzz every decoder that reads bytes from the network (Sources/FuzzTargets; Docs/security.md,
# "Fuzzing"): libFuzzer with AddressSanitizer, FUZZ_SECONDS per target, corpora under
# .build-fuzz/corpus/TARGET seeded from Tests/Fuzz/Seeds/TARGET, crashes to .build-fuzz/crashes/.
# Commit a crash under Tests/Fuzz/Crashes/TARGET/ once it is fixed: FuzzRegressionTests replays it.
# Replay without libFuzzer: `swift run livebuild-fuzz TARGET FILE...`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= datagram stream control migration http admission criu-images
FUZZ_BUILD := $(SWIFT) build --product livebuild-fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
fuzz: swift
	$(FUZZ_BUILD)
	mkdir -p .build-fuzz/crashes
	for target in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$target; cp -n Tests/Fuzz/Seeds/$$target/* .build-fuzz/corpus/$$target/ 2>/dev/null; \
		LIVEBUILD_FUZZ_TARGET=$$target SWIFT_BACKTRACE=enable=no $$($(FUZZ_BUILD) --show-bin-path)/livebuild-fuzz \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
			-artifact_prefix=.build-fuzz/crashes/$$target- .build-fuzz/corpus/$$target || exit 1; \
	done

clean:
	rm -rf .build .build-agent .build-fuzz out
