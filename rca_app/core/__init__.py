"""The pure core: data, layout, discovery, SCM, root-cause ranking. Never imports Qt."""
