"""The feed-forward fast path: Johnson et al.'s transformation network, its training and its
video inference.

- :mod:`.network`: :class:`~.network.TransformNet` (any H×W, output in [0,1]).
- :mod:`.checkpoint`: the model file format (``torch.load(weights_only=True)``, validated).
- :mod:`.regularizers`: noise-stability and compound (Wang et al.) losses, torch warp.
- :mod:`.train`: :func:`~.train.train` (resumable, atomic checkpoints, progress events).
- :mod:`.infer`: :func:`~.infer.load_model`, :func:`~.infer.stylize_frames`,
  :func:`~.infer.stylize_clip_blend` (``--fast-blend``), :func:`~.infer.stylize_image_file`,
  :func:`~.infer.stylize_video_frames`.
"""
