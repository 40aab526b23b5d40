// The module root of cmd/, the three mains every tested version shares. Each version's requirements are
// in v<minor>/go.mod and go.sum: build-control-plane.sh builds with -modfile=v<minor>/go.mod, which Go
// reads instead of this file (it still needs a go.mod here to find the module root). Not part of the
// Python package.
module example.invalid/scheduler-extender/e2e/controlplane

go 1.25
