"""The closure builder: turns each AST node into a Python function of (context, frame), once per expression.

Each closure does what jsonata-python's _eval does for that node type (then predicates, group-by and
the singleton/keep-array rule), with the choice of code made here instead of on every evaluation.
"""
from __future__ import annotations

from nodes.expression.compiler import operators
from nodes.expression.compiler.dates import build_clock_call
from nodes.expression.compiler.dynamic import build_eval_call
from nodes.expression.compiler.library import BUILTINS, build_builtin_call
from nodes.expression.compiler.objects import build_group
from nodes.expression.compiler.partial import build_partial
from nodes.expression.compiler.paths import build_path, descendants, wildcard
from nodes.expression.compiler.runtime import Composed, Frame, Lambda, TailCall, apply, is_function
from nodes.expression.compiler.selection import build_filter
from nodes.expression.compiler.syntax import Node, Unsupported
from nodes.expression.compiler.transform import build_transform
from nodes.expression.compiler.values import UNDEF, Arr, JList, boolize, literal, lookup, mangle
from nodes.expression.jsonata_internals import JException, is_regex, reads_context

# node types whose value can be a sequence and so needs the singleton rule applied
_SEQUENCE_TYPES = {"wildcard", "descendant"}  # calls and paths apply the rule themselves


class Builder:
    """One expression's compilation: knows which variable names the expression itself binds."""

    def __init__(self, ast):
        self.bound = set()
        _collect_bound(ast, self.bound)
        self.static_builtins = set()
        self.raw_result = False  # set for the node being built when its call result must stay unmangled
        self.nesting = 0  # AST depth inside the current lambda body: what a call there costs in depth
        self.scope_given = False  # set for a lambda's body block: each call's fresh frame is its scope

    def build(self, node):
        self.nesting += 1
        try:
            return self._build(node)
        finally:
            self.nesting -= 1

    def _build(self, node):
        keep = bool(node.keep_array)
        has_group = node.type != "path" and getattr(node, "group", None) is not None
        # predicates, group-by and keep-array see a call's result before the singleton rule
        self.raw_result = bool(node.predicate or has_group or keep)
        core = self._core(node)
        preds = [build_filter(p.expr, self.build) for p in (node.predicate or ())]
        group = None
        if has_group:
            group = build_group(node.group.lhs_object, node.group.position, self.build)
        if node.type == "path":
            return core  # paths apply the singleton rule and their group-by themselves
        if not preds and group is None:
            if node.type in _SEQUENCE_TYPES or keep:
                if keep:
                    return lambda x, env: mangle(core(x, env), True)

                def seq_node(x, env):
                    r = core(x, env)
                    if isinstance(r, JList):
                        return mangle(r)
                    return r
                return seq_node
            return core

        def full(x, env):
            r = core(x, env)
            for p in preds:
                r = p(r, env)
            if group is not None:
                r = group(r, env)
            return mangle(r, keep)
        return full

    def _core(self, node):
        t = node.type
        method = getattr(self, "_" + t, None)
        if method is None:
            raise Unsupported(f"{t} expressions")
        return method(node)

    # literals and names

    def _string(self, node):
        return literal(node.value)

    _number = _string
    _value = _string  # true, false or null (None)

    def _regex(self, node):
        v = node.value
        return lambda x, env: v

    def _name(self, node):
        key = node.value
        return lambda x, env: lookup(x, key)

    def _path(self, node):
        return build_path(node, self.build)

    def _wildcard(self, node):
        return wildcard

    def _descendant(self, node):
        return descendants

    def _variable(self, node):
        name = node.value
        if name == "":
            def context(x, env):
                if isinstance(x, JList) and x.outer_wrapper:
                    return x[0]
                return x
            return context
        if name in ("now", "millis", "eval") and name not in self.bound:
            # these read the evaluation itself (its clock, its scope): compiled only where called
            raise Unsupported(f"${name} as a value")
        builtin = BUILTINS.get(name)
        if builtin is not None:
            self.static_builtins.add(name)
        missing = builtin if builtin is not None else UNDEF

        def variable(x, env):
            f = env
            while f is not None:
                v = f.vars
                if name in v:
                    return v[name]
                f = f.parent
            return missing
        return variable

    # operators

    def _binary(self, node):
        return operators.build_binary(node, self.build)

    def _unary(self, node):
        op = node.value
        if op == "-":
            return operators.build_negate(node, self.build)
        if op == "[":
            return self._array(node)
        if op == "{":
            group = build_group(node.lhs_object, node.position, self.build)
            return group
        raise Unsupported(f"unary {op}")

    def _array(self, node):
        items = [(self.build(e), e.value == "[" and e.type == "unary") for e in node.expressions]
        cons = node.consarray

        def array(x, env):
            out = Arr()
            for fn, nested in items:
                v = fn(x, env)
                if v is UNDEF:
                    continue
                if nested or not isinstance(v, list):
                    out.append(v)
                else:
                    out.extend(v)
            if cons:
                out.cons = True
            return out
        return array

    def _condition(self, node):
        cond = self.build(node.condition)
        then = self.build(node.then)
        other = self.build(node.else_) if node.else_ is not None else None

        def condition(x, env):
            if boolize(cond(x, env)):
                return then(x, env)
            if other is not None:
                return other(x, env)
            return UNDEF
        return condition

    def _block(self, node):
        given, self.scope_given = self.scope_given, False
        exprs = [self.build(e) for e in node.expressions]
        if given or not any(_binds_here(e) for e in node.expressions):
            # nothing is bound in this scope, so a frame of its own could never be seen; or the block is
            # a lambda's body, called in a frame made for that call that only the block ever sees
            if len(exprs) == 1:
                return exprs[0]

            def scopeless(x, env):
                r = UNDEF
                for e in exprs:
                    r = e(x, env)
                return r
            return scopeless

        def block(x, env):
            frame = Frame(env, env.state)
            r = UNDEF
            for e in exprs:
                r = e(x, frame)
            return r
        return block

    def _bind(self, node):
        name = node.lhs.value
        rhs = self.build(node.rhs)

        def bind(x, env):
            v = rhs(x, env)
            env.vars[name] = v
            return v
        return bind

    # functions

    def _lambda(self, node):
        if node.thunk:
            return self._tail_call(node.body)
        params = [a.value for a in node.arguments]
        signature = node.signature
        outer, self.nesting = self.nesting, 0
        b = node.body
        self.scope_given = b.type == "block" and not (b.predicate or b.keep_array or getattr(b, "group", None))
        body = self.build(b)
        self.nesting = outer
        pos = node.position
        return lambda x, env: Lambda(body, params, signature, env, x, pos)

    def _tail_call(self, call):
        proc, args, pos = self._call_parts(call)
        if proc is None:
            name = call.procedure.value
            builtin = BUILTINS.get(name)
            if builtin is None or not reads_context(builtin.signature):
                return self._function(call)
            # a built-in that may read its context gets the caller's, as JSONata's trampoline gives it
            self.static_builtins.add(name)
            return lambda x, env: TailCall(builtin, [a(x, env) for a in args], pos)

        def tail(x, env):
            fn = proc(x, env)
            if fn is UNDEF:
                raise JException("T1006", pos)
            return TailCall(fn, [a(x, env) for a in args], pos)
        return tail

    def _call_parts(self, node):
        """(procedure closure or None for a static built-in, argument closures, position)."""
        args = [self.build(a) for a in node.arguments]
        proc = node.procedure
        if proc.type == "variable" and proc.value not in self.bound:
            if proc.value in BUILTINS or proc.value in ("now", "millis"):
                return None, args, node.position
        return self.build(proc), args, node.position

    def _function(self, node, applied_to=None):
        raw, self.raw_result = self.raw_result, False
        proc, args, pos = self._call_parts(node)
        name = node.procedure.value
        if proc is None:
            self.static_builtins.add(name)
            if name in ("now", "millis"):
                return build_clock_call(name, args)
            if name == "eval":
                return build_eval_call(BUILTINS[name], args, pos, lambda ast: Builder(ast).build(ast))
            return build_builtin_call(BUILTINS[name], args, applied_to, pos, raw)

        cost = self.nesting  # the interpreter counts every nested evaluation towards its depth
        is_path = node.procedure.type == "path"
        first_name = node.procedure.steps[0].value if is_path else None

        def call(x, env):
            fn = proc(x, env)
            if fn is UNDEF:
                if is_path and (env.lookup(str(first_name)) is not UNDEF or first_name in BUILTINS):
                    raise JException("T1005", pos, first_name)
                raise JException("T1006", pos, first_name)
            values = [a(x, env) for a in args]
            if applied_to is not None:
                values.insert(0, applied_to(x, env))
            try:
                r = apply(fn, values, x, pos, cost)
                if not raw and isinstance(r, JList) and r.sequence:
                    return mangle(r)
                return r
            except JException as err:
                if err.location < 0:
                    err.location = pos
                raise
        return call

    def _apply(self, node):
        raw = self.raw_result
        lhs = self.build(node.lhs)
        if node.rhs.type == "function":
            self.raw_result = raw
            return self._function(node.rhs, applied_to=lhs)
        rhs = self.build(node.rhs)
        pos = node.position

        def chain(x, env):
            left = lhs(x, env)
            fn = rhs(x, env)
            left_fn, right_fn = is_function(left), is_function(fn) or _is_regex(fn)
            if not right_fn and not left_fn:
                raise JException("T2006", pos, fn)
            if left_fn:
                return Composed(left, fn)
            r = apply(fn, [left], UNDEF, pos)
            return r if raw else mangle(r)
        return chain

    def _partial(self, node):
        return build_partial(node, self.build)

    def _transform(self, node):
        return build_transform(node, self.build)

    def _parent(self, node):
        label = node.slot.label  # bound by the tuple step the parser marked as this `%`'s ancestor
        return lambda x, env: env.lookup(label)


def _is_regex(v):
    return v is not UNDEF and is_regex(v)


def _binds_here(node) -> bool:
    """Whether evaluating `node` may bind a variable in the enclosing scope (blocks and lambdas open
    their own scopes, so what happens inside them does not count)."""
    if not isinstance(node, Node):
        return False
    if node.type == "bind":
        return True
    if node.type in ("block", "lambda"):
        return False
    for attr in ("lhs", "rhs", "expression", "condition", "then", "else_", "procedure", "group", "expr"):
        if _binds_here(getattr(node, attr, None)):
            return True
    for attr in ("expressions", "arguments", "steps", "predicate", "stages", "terms"):
        if any(_binds_here(child) for child in getattr(node, attr, None) or ()):
            return True
    return any(_binds_here(child) for pair in getattr(node, "lhs_object", None) or () for child in pair)


def _collect_bound(node, out, seen=None):
    """Names the expression binds itself ($x := ..., lambda parameters); calls to those are dynamic."""
    seen = set() if seen is None else seen
    if not isinstance(node, Node) or id(node) in seen:
        return
    seen.add(id(node))
    if node.type == "bind" and node.lhs is not None:
        out.add(node.lhs.value)
    if node.type == "lambda" and node.arguments:
        out.update(a.value for a in node.arguments if isinstance(a, Node))
    for attr in ("lhs", "rhs", "expression", "condition", "then", "else_", "procedure", "body",
                 "pattern", "update", "delete", "group", "expr"):
        _collect_bound(getattr(node, attr, None), out, seen)
    for attr in ("expressions", "arguments", "steps", "predicate", "stages", "terms"):
        for child in getattr(node, attr, None) or ():
            _collect_bound(child, out, seen)
    for pair in getattr(node, "lhs_object", None) or ():
        for child in pair:
            _collect_bound(child, out, seen)
