"""Context-free token representations from characters (Kim et al., 2016; Peters et al., 2018).

For a token with character embeddings ``e_1..e_50``::

    c_f   = max_s act(conv_f(e)_s + b_f)                   for every filter f
    x     = [c_1 ... c_F]
    x     = g * relu(x W_T + b_T) + (1 - g) * x,   g = sigmoid(x W_C + b_C)   (each highway layer)
    token = x W_P + b_P

Matrices are kept in the weight file's ``(input, output)`` orientation.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from elmo.characters import ID_OFFSET, PAD_CHAR
from elmo.config import CharCnnConfig

PAD_ID = PAD_CHAR + ID_OFFSET


class CharCnnEncoder(nn.Module):
    """Character CNN, highway layers and projection of the ELMo token layer.

    Args:
        config: the ``char_cnn`` options.
        output_dim: the projection size (``lstm.projection_dim``).
    """

    def __init__(self, config: CharCnnConfig, output_dim: int) -> None:
        super().__init__()
        self.config = config
        dim = config.embedding.dim
        width = config.n_filters
        self.char_embedding = nn.Parameter(torch.zeros(config.n_characters, dim))
        self.convolutions = nn.ModuleList(
            nn.Conv1d(dim, count, kernel_size=size) for size, count in config.filters
        )
        self.highway_transform = nn.ParameterList(
            nn.Parameter(torch.zeros(width, width)) for _ in range(config.n_highway)
        )
        self.highway_transform_bias = nn.ParameterList(
            nn.Parameter(torch.zeros(width)) for _ in range(config.n_highway)
        )
        self.highway_carry = nn.ParameterList(
            nn.Parameter(torch.zeros(width, width)) for _ in range(config.n_highway)
        )
        self.highway_carry_bias = nn.ParameterList(
            nn.Parameter(torch.zeros(width)) for _ in range(config.n_highway)
        )
        self.projection = nn.Parameter(torch.zeros(width, output_dim))
        self.projection_bias = nn.Parameter(torch.zeros(output_dim))
        self._activation = torch.relu if config.activation == "relu" else torch.tanh
        self._max_filter_width = max(size for size, _ in config.filters)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """Token vectors of words given as character ids.

        Args:
            char_ids: ``(words, max_characters)`` ids, every row a real word
                (no all-zero padded rows).

        Returns:
            ``(words, output_dim)`` token representations.
        """
        # Past the longest word every position holds the same padding character, so every
        # convolution window lying wholly inside that tail has the same value for every
        # word. Keeping one such window (or all 50 positions, if none fits) leaves each
        # max-pool unchanged while skipping most of the work on short words.
        lengths = (char_ids != PAD_ID).sum(dim=1)  # begin/end of word included
        keep = min(char_ids.shape[1], int(lengths.max()) + self._max_filter_width)
        chars = F.embedding(char_ids[:, :keep], self.char_embedding)  # (words, chars, dim)
        chars = chars.transpose(1, 2)  # (words, dim, chars)
        pooled = [conv(chars).amax(dim=2) for conv in self.convolutions]
        x = self._activation(torch.cat(pooled, dim=1))  # (words, n_filters)
        for transform, transform_bias, carry, carry_bias in zip(
            self.highway_transform,
            self.highway_transform_bias,
            self.highway_carry,
            self.highway_carry_bias,
            strict=True,
        ):
            gate = torch.sigmoid(torch.addmm(carry_bias, x, carry))
            nonlinear = torch.relu(torch.addmm(transform_bias, x, transform))
            x = gate * nonlinear + (1.0 - gate) * x
        return torch.addmm(self.projection_bias, x, self.projection)  # (words, output_dim)

