package io.scangate.qr;

/**
 * The session state machine, as Lua run atomically inside Redis: two confirms, a confirm racing
 * a cancel, or a confirm after expiry can never both win. Every change bumps {@code version},
 * publishes the whole hash on the instance-shared channel, and on a terminal state shortens the
 * key's life to {@code qr.retention}. Every key a script touches is passed in {@code KEYS}, and
 * they share the session's slot tag (see {@link QrIds#TAG_LENGTH}), so the scripts run unchanged
 * on a Redis Cluster and behind managed-cluster proxies.
 */
final class QrScripts {

  private QrScripts() {}

  /**
   * Shared tail: publish the new state and, if terminal, keep it only for the retention time.
   * The expiry index and the scene key live elsewhere and are not touched here (see
   * {@link QrSessionStore}): the index is sharded over other slots, and the scene key simply
   * lives out its creation-time TTL (it points to the hash, which is gone after the retention).
   */
  private static final String FINISH = """
      local function finish(s, channel, retention)
        redis.call('HINCRBY', s, 'version', 1)
        local st = redis.call('HGET', s, 'status')
        if st ~= 'PENDING' and st ~= 'SCANNED' then
          redis.call('EXPIRE', s, retention)
        end
        local flat = redis.call('HGETALL', s)
        local state = {}
        for i = 1, #flat, 2 do state[flat[i]] = flat[i + 1] end
        state['scanTokenHash'] = nil
        local encoded = cjson.encode(state)
        redis.call('PUBLISH', channel, encoded)
        return encoded
      end
      """;

  /**
   * Creates a PENDING session: its hash and its scene key, both alive for {@code life} seconds.
   * KEYS: session hash, scene key (same slot tag). ARGV: life (s), sessionId, then field/value pairs.
   */
  static final String CREATE = """
      redis.call('HSET', KEYS[1], unpack(ARGV, 3))
      redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
      redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[1]))
      return 1
      """;

  /**
   * KEYS: session hash, ticket key (same slot tag; the ticket key is only written by a confirm).
   * ARGV: op, now (ms), channel, retention (s), then the op's own arguments.
   * Returns {'ok', stateJson} or {'err', code, status}.
   */
  static final String TRANSITION = FINISH + """
      local s = KEYS[1]
      local op, now, channel, retention = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
      local status = redis.call('HGET', s, 'status')
      if not status then return {'err', 'session_not_found', ''} end
      local live = status == 'PENDING' or status == 'SCANNED'
      if live and now >= tonumber(redis.call('HGET', s, 'expiresAt')) then
        redis.call('HSET', s, 'status', 'EXPIRED')
        local encoded = finish(s, channel, retention)
        if op == 'expire' then return {'ok', encoded} end
        return {'err', 'session_expired', 'EXPIRED'}
      end
      if not live then return {'err', 'session_finished', status} end

      local function scanTokenMatches(hash)
        return redis.call('HGET', s, 'scanTokenHash') == hash
      end

      -- The profile fields the caller knows ('' = unknown, keep what is there).
      local function setProfile(nickname, avatarUrl)
        if nickname ~= '' then redis.call('HSET', s, 'nickname', nickname) end
        if avatarUrl ~= '' then redis.call('HSET', s, 'avatarUrl', avatarUrl) end
      end

      -- CONFIRMED with a one-time ticket whose key holds the grant the exchange will redeem.
      local function confirmWithTicket(userId, ticket, ticketTtl)
        redis.call('HSET', s, 'status', 'CONFIRMED', 'userId', userId, 'ticket', ticket)
        local grant = cjson.encode({sessionId = redis.call('HGET', s, 'sessionId'), userId = userId,
          appId = redis.call('HGET', s, 'appId'), connection = redis.call('HGET', s, 'connection')})
        redis.call('SET', KEYS[2], grant, 'EX', tonumber(ticketTtl))
      end

      if op == 'scan' then
        -- ARGV: 5 openid, 6 unionid, 7 scanTokenHash, 8 nickname, 9 avatarUrl
        if status == 'SCANNED' and redis.call('HGET', s, 'openid') ~= ARGV[5] then
          return {'err', 'already_scanned', status}
        end
        redis.call('HSET', s, 'status', 'SCANNED', 'openid', ARGV[5], 'unionid', ARGV[6], 'scanTokenHash', ARGV[7],
          'scannedAt', ARGV[2])
        setProfile(ARGV[8], ARGV[9])
      elseif op == 'confirm' then
        -- ARGV: 5 scanTokenHash, 6 userId, 7 ticket, 8 ticketTtl (s), 9 nickname, 10 avatarUrl
        if status ~= 'SCANNED' then return {'err', 'not_scanned', status} end
        if not scanTokenMatches(ARGV[5]) then return {'err', 'invalid_scan_token', status} end
        confirmWithTicket(ARGV[6], ARGV[7], ARGV[8])
        setProfile(ARGV[9], ARGV[10])
      elseif op == 'confirm_direct' then
        -- A scan that is itself the confirmation (Official Account, confirmMode direct).
        -- ARGV: 5 openid, 6 unionid, 7 userId, 8 ticket, 9 ticketTtl (s), 10 nickname, 11 avatarUrl
        redis.call('HSET', s, 'openid', ARGV[5], 'unionid', ARGV[6])
        confirmWithTicket(ARGV[7], ARGV[8], ARGV[9])
        setProfile(ARGV[10], ARGV[11])
      elseif op == 'cancel' then
        -- ARGV: 5 scanTokenHash
        if status ~= 'SCANNED' then return {'err', 'not_scanned', status} end
        if not scanTokenMatches(ARGV[5]) then return {'err', 'invalid_scan_token', status} end
        redis.call('HSET', s, 'status', 'CANCELED')
      elseif op == 'fail' then
        -- ARGV: 5 scanTokenHash ('' when the failure is not the scanner's doing), 6 error code
        if ARGV[5] ~= '' and not scanTokenMatches(ARGV[5]) then return {'err', 'invalid_scan_token', status} end
        redis.call('HSET', s, 'status', 'FAILED', 'error', ARGV[6])
      elseif op == 'expire' then
        -- The sweeper's call for a session its index says is due; not due by the hash's own time.
        return {'err', 'not_due', status}
      else
        return {'err', 'unknown_op', status}
      end
      return {'ok', finish(s, channel, retention)}
      """;
}
