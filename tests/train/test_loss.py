"""The completion-only LM head loss of train/sft.py against the model's own loss on a tiny Llama."""

import functools

import pytest
import torch

from domplay.train.sft import labelled_token_loss


def _batch():
    """Two right-padded rows whose labels cover only their last few (completion) tokens."""
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 97, (2, 12), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    labels = torch.full_like(ids, -100)
    labels[0, 8:] = ids[0, 8:]
    labels[1, 6:9] = ids[1, 6:9]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _grads(model):
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_equals_the_models_own_loss_and_gradients(tiny):
    inputs = _batch()
    tiny.zero_grad()
    ours = labelled_token_loss(tiny, inputs)
    ours.backward()
    ours_grads = _grads(tiny)
    tiny.zero_grad()
    theirs = tiny(**inputs).loss
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    assert ours_grads.keys() == _grads(tiny).keys()
    for name, grad in _grads(tiny).items():
        assert torch.allclose(ours_grads[name], grad, atol=1e-6), name


def test_counts_tokens_across_accumulated_batches_when_told(tiny):
    inputs = _batch()
    labelled = int((inputs["labels"][:, 1:] != -100).sum())
    mean = labelled_token_loss(tiny, inputs)
    summed_over_twice = labelled_token_loss(tiny, inputs, num_items_in_batch=2 * labelled)
    assert summed_over_twice.item() == pytest.approx(mean.item() / 2, rel=1e-5)


def test_bf16_autocast_stays_close_and_keeps_float32_weights(tiny):
    inputs = _batch()
    exact = labelled_token_loss(tiny, inputs).item()
    autocast = labelled_token_loss(tiny, inputs, bf16=True)
    assert autocast.dtype == torch.float32 and autocast.item() == pytest.approx(exact, rel=2e-2)
    assert all(p.dtype == torch.float32 for p in tiny.parameters())


def test_a_batch_without_labels_is_a_finite_zero(tiny):
    inputs = _batch()
    inputs["labels"] = torch.full_like(inputs["labels"], -100)
    assert labelled_token_loss(tiny, inputs).item() == 0.0


def _shared_batch(rows: int = 3, shared: int = 20):
    """Right-padded rows that begin with the same `shared` tokens (like a system prompt)."""
    generator = torch.Generator().manual_seed(2)
    ids = torch.randint(1, 97, (rows, 32), generator=generator)
    ids[:, :shared] = ids[0, :shared]
    mask = torch.ones_like(ids)
    mask[1, 27:] = 0
    labels = torch.full_like(ids, -100)
    for row, (first, end) in enumerate([(26, 32), (24, 27), (29, 32)][:rows]):
        labels[row, first:end] = ids[row, first:end]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def test_a_shared_prefix_is_computed_once_with_the_same_loss_and_gradients(tiny, monkeypatch):
    from domplay.train import sft

    inputs = _shared_batch()
    assert sft._shared_prefix_length(inputs["input_ids"], inputs["attention_mask"], inputs["labels"]) == 20
    calls = []
    decoder = tiny.get_decoder()
    original = type(decoder).forward

    @functools.wraps(original)  # keeps the signature, which names the cache argument
    def counting(self, input_ids=None, **kw):
        calls.append(tuple(input_ids.shape))
        return original(self, input_ids=input_ids, **kw)

    monkeypatch.setattr(type(decoder), "forward", counting)
    tiny.zero_grad()
    ours = labelled_token_loss(tiny, inputs)
    ours.backward()
    assert calls == [(1, 20), (3, 12)]  # the prefix once, then the rest of every row
    ours_grads = _grads(tiny)
    monkeypatch.undo()
    tiny.zero_grad()
    theirs = tiny(**inputs).loss
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    for name, grad in _grads(tiny).items():
        assert torch.allclose(ours_grads[name], grad, atol=1e-6), name


def test_the_prefix_stops_before_the_first_label_and_needs_two_rows():
    from domplay.train.sft import _shared_prefix_length

    inputs = _shared_batch()
    ids, mask, labels = inputs["input_ids"], inputs["attention_mask"], inputs["labels"]
    labels[0, 15] = ids[0, 15]  # a label inside the common beginning: position 14 predicts it
    assert _shared_prefix_length(ids, mask, labels) == 14
    assert _shared_prefix_length(ids[:1], mask[:1], labels[:1]) == 0
    mask[2, :3] = 0  # left padding: nothing is shared
    assert _shared_prefix_length(ids, mask, labels) == 0


def test_first_token_weight_is_a_weighted_mean_over_each_rows_tokens(tiny):
    inputs = _batch()
    logits = tiny(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    targets = inputs["labels"][:, 1:]
    nll = torch.nn.functional.cross_entropy(
        logits[:, :-1].transpose(1, 2), targets, reduction="none", ignore_index=-100
    )  # (rows, positions), 0 where unlabelled
    firsts = [(targets[row] != -100).nonzero()[0].item() for row in range(2)]
    weights = (targets != -100).float()
    for row, position in enumerate(firsts):
        weights[row, position] = 4.0
    expected = (nll * weights).sum() / weights.sum()
    assert labelled_token_loss(tiny, inputs, first_token_weight=4.0).item() == pytest.approx(expected.item(), rel=1e-5)
    assert labelled_token_loss(tiny, inputs, first_token_weight=1.0).item() == pytest.approx(
        tiny(**inputs).loss.item(), rel=1e-5
    )
