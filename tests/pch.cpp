// Anchors the shared precompiled header of the torch tests.
