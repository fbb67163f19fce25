{
  # One addon from the sources under native/. Each ISA's kernels live in a static library
  # compiled with that ISA's flags only; the addon picks one at load (kernels/dispatch.cc),
  # so the build runs on any x86-64 (no -march=native).
  "target_defaults": {
    "include_dirs": ["native", "<!(node -p \"require('node-addon-api').include_dir\")"],
    "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fvisibility=hidden"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "xcode_settings": {"GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17"}
  },
  "targets": [
    {
      "target_name": "tensorfuse_kernels_scalar",
      "type": "static_library",
      "sources": ["native/kernels/ukernels_scalar.cc", "native/kernels/pointwise_scalar.cc"]
    },
    {
      "target_name": "tensorfuse_kernels_avx2",
      "type": "static_library",
      "conditions": [["target_arch=='x64'", {
        "sources": ["native/kernels/ukernels_avx2.cc", "native/kernels/pointwise_avx2.cc"],
        "cflags_cc": ["-mavx2", "-mfma", "-mf16c"]
      }]]
    },
    {
      "target_name": "tensorfuse_kernels_avx512",
      "type": "static_library",
      "conditions": [["target_arch=='x64'", {
        "sources": ["native/kernels/ukernels_avx512.cc", "native/kernels/pointwise_avx512.cc"],
        "cflags_cc": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma", "-mf16c",
                       "-Wno-maybe-uninitialized", "-Wno-uninitialized"]
      }]]
    },
    {
      "target_name": "tensorfuse_kernels_neon",
      "type": "static_library",
      "conditions": [["target_arch=='arm64'", {
        "sources": ["native/kernels/ukernels_neon.cc", "native/kernels/pointwise_neon.cc"]
      }]]
    },
    {
      "target_name": "tensorfuse",
      "dependencies": [
        "tensorfuse_kernels_scalar",
        "tensorfuse_kernels_avx2",
        "tensorfuse_kernels_avx512",
        "tensorfuse_kernels_neon"
      ],
      "sources": [
        "native/runtime/isa.cc",
        "native/runtime/thread_pool.cc",
        "native/runtime/allocator.cc",
        "native/runtime/cache_info.cc",
        "native/kernels/dispatch.cc",
        "native/kernels/binary.cc",
        "native/kernels/channel_affine.cc",
        "native/kernels/concat.cc",
        "native/kernels/conv2d/conv2d.cc",
        "native/kernels/conv2d/conv_sources.cc",
        "native/kernels/conv2d/conv_channel_lanes.cc",
        "native/kernels/conv2d/conv_blocked.cc",
        "native/kernels/conv2d/blocked_layout.cc",
        "native/kernels/conv2d/conv_scratch.cc",
        "native/binding/args.cc",
        "native/binding/async_work.cc",
        "native/binding/batch_view.cc",
        "native/binding/elementwise_binding.cc",
        "native/binding/concat_binding.cc",
        "native/binding/conv2d_binding.cc",
        "native/binding/blocked_layout_binding.cc",
        "native/kernels/pointwise.cc",
        "native/kernels/pool.cc",
        "native/kernels/pool_nhwc.cc",
        "native/kernels/global_pool.cc",
        "native/kernels/lrn.cc",
        "native/kernels/resize.cc",
        "native/kernels/slice.cc",
        "native/binding/op_args.cc",
        "native/binding/fusion_ops_binding.cc",
        "native/binding/pool_binding.cc",
        "native/binding/runtime_binding.cc",
        "native/binding/addon.cc"
      ]
    }
  ]
}
