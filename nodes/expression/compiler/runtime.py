"""What compiled closures share at evaluation time: variable frames, the time/depth budget, function values.

Lambdas subclass jsonata-python's JFunctionCallable so that reference library functions that take a
function argument ($replace, $match with a callback) can call them back.
"""
from __future__ import annotations

import time

from nodes.expression.compiler.values import UNDEF, from_reference, to_reference
from nodes.expression.jsonata_internals import JException, JFunction, JLambda, is_regex, regex_closure

TICK_MASK = 255  # look at the clock every 256 ticks: time.monotonic() costs more than the work between
CLOCK_EVERY = 1023  # loops over sequences look at the clock every 1,024 items


class State:
    """One evaluation's budget as the compiled closures check it: deadline, depth, output caps."""
    __slots__ = ("meter", "deadline", "timeout_ms", "max_depth", "max_chars", "max_items", "depth", "ticks",
                 "clock")

    def __init__(self, meter):
        b = meter.budget
        self.meter = meter
        self.timeout_ms = b.time_ms
        self.deadline = meter.deadline
        self.max_depth = b.depth
        self.max_chars = b.output_bytes
        self.max_items = b.items
        self.depth = 0
        self.ticks = 0
        self.clock = None  # $now()/$millis(): read once per evaluation

    def tick(self):
        self.ticks += 1
        if not self.ticks & TICK_MASK and time.monotonic() > self.deadline:
            raise JException("D1012", -1, self.timeout_ms)

    def check_time(self):
        if time.monotonic() > self.deadline:
            raise JException("D1012", -1, self.timeout_ms)


class Frame:
    """A scope of JSONata variables ($x := ...); blocks and lambda calls open one."""
    __slots__ = ("vars", "parent", "state")

    def __init__(self, parent, state, variables=None):
        self.vars = {} if variables is None else variables
        self.parent = parent
        self.state = state

    def lookup(self, name, default=UNDEF):
        f = self
        while f is not None:
            v = f.vars
            if name in v:
                return v[name]
            f = f.parent
        return default


class TailCall:
    """A call in tail position, returned to the calling lambda's loop instead of growing the stack."""
    __slots__ = ("fn", "args", "pos")

    def __init__(self, fn, args, pos):
        self.fn = fn
        self.args = args
        self.pos = pos


class _Arity:
    """What jsonata-python asks of a function's signature: its arity; validation is ours."""

    def __init__(self, n):
        self.n = n

    def get_min_number_of_args(self):
        return self.n

    def validate(self, args, context):
        return args


class Lambda(JFunction):
    """A JSONata function value: compiled body, parameters, the scope and context it was made in."""

    def __init__(self, body, params, signature, env, ctx, position):
        self.body = body
        self.params = params
        self.arguments = params
        self.signature = _Arity(len(params))  # jsonata-python reads a function's arity from here
        self.lambda_signature = signature
        self.env = env
        self.ctx = ctx
        self.position = position

    def arity(self) -> int:
        return len(self.params)

    def frame_for(self, args):
        if self.lambda_signature is None and len(args) == len(self.params):
            return Frame(self.env, self.env.state, dict(zip(self.params, args)))
        if self.lambda_signature is not None:
            ref = self.lambda_signature.validate([to_reference(a) for a in args], to_reference(self.ctx))
            args = [from_reference(a) for a in ref]
        frame = Frame(self.env, self.env.state)
        v = frame.vars
        n = len(args)
        for i, p in enumerate(self.params):
            v[p] = args[i] if i < n else UNDEF
        return frame

    def invoke(self, args, cost=1, caller=UNDEF):
        """Call with `args`; `caller` is the calling context, which JSONata hands to a built-in
        called in tail position (a higher-order function calls with no context)."""
        st = self.env.state
        st.depth += cost
        try:
            if st.depth >= st.max_depth:
                raise JException("D1011", -1)
            st.tick()
            r = self.body(self.ctx, self.frame_for(args))
            return bounce(r, st, caller) if type(r) is TailCall else r
        finally:
            st.depth -= cost

    def call(self, input, args):
        return to_reference(self.invoke([from_reference(a) for a in (args or ())], 1, from_reference(input)))

    def repeated(self):
        """A caller for higher-order functions, which call one lambda once per item: the depth is
        theirs to count (once), the frame is built directly when there is no signature to check."""
        if self.lambda_signature is not None:
            return self.invoke
        body, env, ctx, params, st = self.body, self.env, self.ctx, self.params, self.env.state
        width = len(params)

        def call(args):
            st.ticks += 1
            if not st.ticks & TICK_MASK:
                st.check_time()
            if len(args) == width:
                scope = dict(zip(params, args))
            else:
                scope = {p: args[i] if i < len(args) else UNDEF for i, p in enumerate(params)}
            r = body(ctx, Frame(env, st, scope))
            return bounce(r, st, UNDEF) if type(r) is TailCall else r
        return call


def bounce(r, st, caller):
    """Run tail calls in a loop (constant depth) until a value comes back."""
    while type(r) is TailCall:
        st.tick()
        fn = r.fn
        if type(fn) is Lambda:
            r = fn.body(fn.ctx, fn.frame_for(r.args))
        else:
            r = apply(fn, r.args, caller, r.pos)
    return r


class Repetition:
    """The depth a higher-order function's calls take: one level for the whole loop."""
    __slots__ = ("state",)

    def __init__(self, fn):
        self.state = fn.env.state

    def __enter__(self):
        st = self.state
        st.depth += 1
        if st.depth >= st.max_depth:
            st.depth -= 1
            raise JException("D1011", -1)

    def __exit__(self, *exc):
        self.state.depth -= 1


class Composed(JFunction):
    """f ~> g where both are functions: a function of one argument."""

    def __init__(self, first, second):
        self.first = first
        self.second = second
        self.arguments = [None]
        self.signature = _Arity(1)

    def arity(self) -> int:
        return 1

    def invoke(self, args, cost=1, caller=UNDEF):
        return apply(self.second, [apply(self.first, args, UNDEF, -1)], UNDEF, -1)

    def call(self, input, args):
        return to_reference(self.invoke([from_reference(a) for a in (args or ())], 1, from_reference(input)))


def is_function(v) -> bool:
    return isinstance(v, (Lambda, Composed, JFunction, JLambda))


def arity(fn) -> int:
    if isinstance(fn, JFunction) and fn.signature is not None:
        return fn.signature.get_min_number_of_args()
    return 1


def apply(fn, args, ctx, pos, cost=1):
    """Call any JSONata function value with arguments in the compiled value model."""
    if type(fn) is Lambda:
        return fn.invoke(args, cost, ctx)
    if type(fn) is Composed:
        return fn.invoke(args, cost)
    if isinstance(fn, JFunction) or isinstance(fn, JLambda):
        from_lib = getattr(fn, "compiled_impl", None)
        if from_lib is not None:
            return from_lib(args, ctx, pos)
        try:
            ref = [to_reference(a) for a in args]
            c = to_reference(ctx)
            return from_reference(fn.call(c, fn.validate(ref, c)))
        except JException as err:
            if err.location < 0:
                err.location = pos
            raise
    if is_regex(fn):
        out = [regex_closure(fn.finditer(s)) for s in args if isinstance(s, str)]
        return from_reference(out[0] if len(out) == 1 else out)
    raise JException("T1006", pos)
