// The mains of the pinned upstream tools. hack/build-tool.sh copies each into a build
// module of its own that requires the pinned release; this go.mod only keeps them out
// of the vcdns module.
module vcdns.local/tools

go 1.25.0
