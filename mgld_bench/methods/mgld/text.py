"""The text tower of MGLD's ``FrozenOpenCLIPEmbedder`` (OpenCLIP ViT-H-14, penultimate layer).

Keys are those under ``cond_stage_model.model.`` in ``mgldvsr_unet.ckpt`` (294 tensors,
354.03 M): ``token_embedding``, ``positional_embedding``, ``transformer.resblocks.{0..23}``,
``ln_final``, ``text_projection`` and ``logit_scale``.  The official embedder deletes the image
tower (``del model.visual``) before the model is saved, so the checkpoint holds no
``visual.*`` keys; the causal ``attn_mask`` is a non-persistent buffer, not in the file either.
``text_projection`` and ``logit_scale`` are loaded (strict) but unused: the official output is
``ln_final`` applied to the output of the *second-to-last* residual block ("penultimate"),
all 77 positions, i.e. (B, 77, 1024).

Only the empty prompt is supported -- the only one MGLD's inference uses (``['']``): its
tokens are ``[49406 (start), 49407 (end), 0 x 75]``, built here without a tokenizer.
:meth:`MGLDTextEncoder.encode_empty` returns its (1, 77, 1024) context; compute it once per
checkpoint and drop the tower.  Other prompts would need OpenCLIP's BPE tokenizer and are not
supported by this module (``encode_tokens`` takes ready-made token ids).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mgld_bench.methods.mgld.config import TextConfig

SOT_TOKEN = 49406
EOT_TOKEN = 49407


class LayerNorm(nn.LayerNorm):
    """LayerNorm in float32, cast back (OpenCLIP's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(),
                            self.eps).to(x.dtype)


class CausalSelfAttention(nn.Module):
    """``nn.MultiheadAttention``'s parameter layout (fused ``in_proj``) with a causal mask."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, c // self.heads).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, c))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads)
        self.ln_2 = LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", nn.GELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class _Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads) for _ in range(layers))


class MGLDTextEncoder(nn.Module):
    """OpenCLIP text tower; ``encode_empty()`` -> (1, 77, width) penultimate-layer context."""

    def __init__(self, cfg: TextConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or TextConfig.full()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.context_length, cfg.width))
        self.transformer = _Transformer(cfg.width, cfg.layers, cfg.heads)
        self.ln_final = LayerNorm(cfg.width)
        self.text_projection = nn.Parameter(torch.zeros(cfg.width, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.zeros(()))

    @staticmethod
    def empty_tokens(context_length: int = 77) -> torch.Tensor:
        """Token ids of the empty prompt: (1, context_length) long."""
        tokens = torch.zeros(1, context_length, dtype=torch.long)
        tokens[0, 0], tokens[0, 1] = SOT_TOKEN, EOT_TOKEN
        return tokens

    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, 77) token ids -> (B, 77, width): ln_final of the second-to-last block's output."""
        x = self.token_embedding(tokens) + self.positional_embedding
        for block in self.transformer.resblocks[:-1]:
            x = block(x)
        return self.ln_final(x)

    def encode_empty(self) -> torch.Tensor:
        """The context of the empty prompt, (1, 77, width), on the tower's device and dtype."""
        tokens = self.empty_tokens(self.cfg.context_length).to(self.token_embedding.weight.device)
        return self.encode_tokens(tokens)
